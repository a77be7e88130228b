// SPDX-License-Identifier: GPL-3.0-or-later
// Qwen2-VL chat-format prompts, rendered without a template engine. The rules are those of the
// Qwen2-VL-Instruct chat template: a default system turn when the first message is not a system one,
// each message `<|im_start|>{role}\n{content}<|im_end|>\n`, content items back to back, an image item
// as `<|vision_start|><|image_pad|><|vision_end|>`, and `<|im_start|>assistant\n` as generation prompt.
// After tokenisation, expandImagePads() repeats each image's pad to its token count (t*h*w/merge^2).
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace unirank::text {

struct ChatItem {
    enum class Kind { Text, Image } kind = Kind::Text;
    std::string text = {}; ///< for Text
};

struct ChatMessage {
    std::string role; ///< system, user, assistant
    std::vector<ChatItem> content;
};

inline constexpr const char *kDefaultSystemPrompt = "You are a helpful assistant.";

std::string renderChat(const std::vector<ChatMessage> &messages, bool addGenerationPrompt);

/// Replaces the i-th `imagePad` id with `tokensPerImage[i]` copies. Throws InputError when the number
/// of pads and of images differ.
std::vector<std::int32_t> expandImagePads(std::span<const std::int32_t> ids, std::int32_t imagePad,
                                          std::span<const std::int64_t> tokensPerImage);

} // namespace unirank::text
