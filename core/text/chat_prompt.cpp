// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/text/chat_prompt.h"

#include "core/util/error.h"

namespace unirank::text {

std::string renderChat(const std::vector<ChatMessage> &messages, bool addGenerationPrompt)
{
    std::string out;
    if (messages.empty() || messages.front().role != "system")
        out.append("<|im_start|>system\n").append(kDefaultSystemPrompt).append("<|im_end|>\n");
    for (const auto &m : messages) {
        out.append("<|im_start|>").append(m.role).append("\n");
        for (const auto &item : m.content)
            out += item.kind == ChatItem::Kind::Image ? "<|vision_start|><|image_pad|><|vision_end|>" : item.text;
        out += "<|im_end|>\n";
    }
    if (addGenerationPrompt)
        out += "<|im_start|>assistant\n";
    return out;
}

std::vector<std::int32_t> expandImagePads(std::span<const std::int32_t> ids, std::int32_t imagePad,
                                          std::span<const std::int64_t> tokensPerImage)
{
    std::vector<std::int32_t> out;
    out.reserve(ids.size());
    std::size_t image = 0;
    for (const auto id : ids) {
        if (id != imagePad) {
            out.push_back(id);
            continue;
        }
        if (image >= tokensPerImage.size())
            throw InputError("the prompt has more image placeholders than images (" +
                             std::to_string(tokensPerImage.size()) + ")");
        out.insert(out.end(), static_cast<std::size_t>(tokensPerImage[image++]), imagePad);
    }
    if (image != tokensPerImage.size())
        throw InputError("the prompt has " + std::to_string(image) + " image placeholders for " +
                         std::to_string(tokensPerImage.size()) + " images");
    return out;
}

} // namespace unirank::text
