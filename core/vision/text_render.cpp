// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/vision/text_render.h"

#include <opencv2/imgproc.hpp>

#include <sstream>

namespace unirank::vision {

RenderedText renderTextImage(const std::string &text, int width, int maxLines)
{
    constexpr int font = cv::FONT_HERSHEY_SIMPLEX;
    constexpr double scale = 0.5;
    constexpr int thickness = 1, margin = 8, lineHeight = 20;
    std::string ascii;
    for (const unsigned char c : text)
        ascii += c < 0x80 ? (c == '\n' || c == '\t' ? ' ' : static_cast<char>(c)) : (c >= 0xC0 ? '?' : '\0');
    std::erase(ascii, '\0');
    std::vector<std::string> lines;
    std::istringstream words(ascii);
    std::string word, line;
    int baseline = 0;
    while (words >> word && static_cast<int>(lines.size()) < maxLines) {
        const auto candidate = line.empty() ? word : line + " " + word;
        if (cv::getTextSize(candidate, font, scale, thickness, &baseline).width > width - 2 * margin && !line.empty()) {
            lines.push_back(line);
            line = word;
        } else {
            line = candidate;
        }
    }
    if (!line.empty() && static_cast<int>(lines.size()) < maxLines)
        lines.push_back(line);
    const int height = std::max(56, margin * 2 + lineHeight * static_cast<int>(lines.size()));
    cv::Mat img(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
    for (std::size_t i = 0; i < lines.size(); ++i)
        cv::putText(img, lines[i], {margin, margin + lineHeight * static_cast<int>(i + 1) - 5}, font, scale,
                    cv::Scalar(0, 0, 0), thickness, cv::LINE_AA);
    RenderedText out{width, height, std::vector<std::uint8_t>(img.data, img.data + img.total() * 3)};
    return out; // the image is grey on white, so BGR and RGB are the same bytes
}

} // namespace unirank::vision
