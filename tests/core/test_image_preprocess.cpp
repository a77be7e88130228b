// SPDX-License-Identifier: GPL-3.0-or-later
// Image preprocessing against the reference processor: smart_resize on 79 sizes x 3 settings,
// Pillow-exact resampling (resized_rgb_u8 within one level), pixel_values and grids of the five golden
// PNGs (RGB and greyscale), alpha over white, and decompression bombs refused from the header.
#include "core/util/atomic_file.h"
#include "core/vision/image_header.h"
#include "core/vision/image_preprocess.h"
#include "core/vision/pil_resample.h"
#include "core/vision/smart_resize.h"
#include "test_support.h"

#include <QTest>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <zlib.h>

using namespace unirank;
using namespace unirank::vision;
using nlohmann::json;

namespace {

/// Reads one tensor of a safetensors file as raw bytes (test-local; the model library is not linked).
std::string tensorBytes(const std::filesystem::path &file, const std::string &name, std::vector<std::int64_t> *shape)
{
    const auto raw = readWholeFile(file);
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i)
        n = (n << 8) | static_cast<unsigned char>(raw[static_cast<std::size_t>(i)]);
    const auto header = json::parse(raw.substr(8, n));
    const auto &e = header.at(name);
    *shape = e.at("shape").get<std::vector<std::int64_t>>();
    const auto b = e.at("data_offsets")[0].get<std::size_t>(), end = e.at("data_offsets")[1].get<std::size_t>();
    return raw.substr(8 + n + b, end - b);
}

void chunk(std::string &png, const char *type, const std::string &data)
{
    for (int s = 24; s >= 0; s -= 8)
        png += static_cast<char>((data.size() >> s) & 0xFF);
    const std::string body = std::string(type, 4) + data;
    png += body;
    const auto crc = crc32(0, reinterpret_cast<const Bytef *>(body.data()), static_cast<uInt>(body.size()));
    for (int s = 24; s >= 0; s -= 8)
        png += static_cast<char>((crc >> s) & 0xFF);
}

/// A 56x56 palette PNG: left half index 0, right half index 1; `transparentFirst` adds a tRNS chunk
/// making index 0 fully transparent.
std::string palettePng(bool transparentFirst)
{
    std::string png("\x89PNG\r\n\x1a\n", 8);
    std::string ihdr;
    for (const std::uint32_t v : {56u, 56u})
        for (int s = 24; s >= 0; s -= 8)
            ihdr += static_cast<char>((v >> s) & 0xFF);
    ihdr += std::string("\x08\x03\x00\x00\x00", 5); // 8-bit, palette
    chunk(png, "IHDR", ihdr);
    chunk(png, "PLTE", std::string("\xC8\x10\x20\x10\xB4\x30", 6)); // (200,16,32), (16,180,48)
    if (transparentFirst)
        chunk(png, "tRNS", std::string("\x00", 1));
    std::string raw;
    for (int y = 0; y < 56; ++y) {
        raw += '\0';
        for (int x = 0; x < 56; ++x)
            raw += static_cast<char>(x < 28 ? 0 : 1);
    }
    std::string packed(compressBound(static_cast<uLong>(raw.size())), '\0');
    auto len = static_cast<uLongf>(packed.size());
    compress(reinterpret_cast<Bytef *>(packed.data()), &len, reinterpret_cast<const Bytef *>(raw.data()),
             static_cast<uLong>(raw.size()));
    packed.resize(len);
    chunk(png, "IDAT", packed);
    chunk(png, "IEND", "");
    return png;
}

} // namespace

class TestImagePreprocess : public QObject {
    Q_OBJECT
    ImageProcessorConfig m_config;

private slots:
    void initTestCase()
    {
        auto c = ImageProcessorConfig::load(test::goldenDir() / "image_processor" / "preprocessor_config.json");
        QVERIFY(c.has_value());
        m_config = *c;
        QCOMPARE(m_config.maxPixels, std::int64_t(25088));
    }

    void smartResizeTable()
    {
        const auto table = json::parse(readWholeFile(test::goldenDir() / "image_processor" / "smart_resize.json"));
        int checked = 0, errors = 0, degenerate = 0;
        for (const auto &setting : table.at("settings")) {
            const auto factor = setting.at("factor").get<std::int64_t>();
            const auto minP = setting.at("min_pixels").get<std::int64_t>(), maxP = setting.at("max_pixels").get<std::int64_t>();
            for (const auto &row : setting.at("cases")) {
                const auto h = row.at("height").get<std::int64_t>(), w = row.at("width").get<std::int64_t>();
                if (row.contains("error")) {
                    QVERIFY_THROWS_EXCEPTION(InputError, smartResize(h, w, factor, minP, maxP));
                    ++errors;
                    continue;
                }
                const auto got = smartResize(h, w, factor, minP, maxP);
                const auto rh = row.at("resized_height").get<std::int64_t>(), rw = row.at("resized_width").get<std::int64_t>();
                if (row.contains("note")) { // 4.45.1 floors a side to 0 here; we clamp to the factor
                    QCOMPARE(got.height, std::max(rh, factor));
                    QCOMPARE(got.width, std::max(rw, factor));
                    ++degenerate;
                    continue;
                }
                QVERIFY2(got.height == rh && got.width == rw,
                         qPrintable(QString("%1x%2 -> %3x%4, reference %5x%6").arg(h).arg(w).arg(got.height).arg(got.width).arg(rh).arg(rw)));
                ++checked;
            }
        }
        QCOMPARE(checked + errors + degenerate, 3 * 79);
        QCOMPARE(errors, 15);
        // Half-to-even rounding: 70/28 = 2.5 -> 2, 126/28 = 4.5 -> 4.
        QCOMPARE(smartResize(70, 70, 28, 56 * 56, 1 << 30).height, std::int64_t(56));
        QCOMPARE(smartResize(126, 126, 28, 56 * 56, 1 << 30).height, std::int64_t(112));
    }

    void goldenImages()
    {
        const auto cases = json::parse(readWholeFile(test::goldenDir() / "image_processor" / "cases.json"));
        const auto tensors = test::goldenDir() / "image_processor" / "pixel_values.safetensors";
        for (const auto &img : cases.at("images")) {
            const auto name = img.at("name").get<std::string>();
            const auto out = preprocessImageFile(test::goldenDir() / img.at("png").get<std::string>(), m_config);
            const auto grid = img.at("image_grid_thw").get<std::vector<std::int64_t>>();
            QVERIFY(std::equal(grid.begin(), grid.end(), out.gridThw.begin()));
            std::vector<std::int64_t> shape;
            const auto rgb = tensorBytes(tensors, name + ".resized_rgb_u8", &shape);
            QCOMPARE(shape, (std::vector<std::int64_t>{out.resizedHeight, out.resizedWidth, 3}));
            int worst = 0, differing = 0;
            for (std::size_t i = 0; i < rgb.size(); ++i) {
                const int d = std::abs(static_cast<int>(static_cast<unsigned char>(rgb[i])) - out.resizedRgb[i]);
                worst = std::max(worst, d);
                differing += d != 0;
            }
            qInfo("%s: resized %lldx%lld, %d of %zu bytes differ, max %d level(s)", name.c_str(),
                  static_cast<long long>(out.resizedHeight), static_cast<long long>(out.resizedWidth), differing,
                  rgb.size(), worst);
            QVERIFY(worst <= 1);
            const auto pv = tensorBytes(tensors, name + ".pixel_values", &shape);
            QCOMPARE(shape, (std::vector<std::int64_t>{out.patches, out.features}));
            std::vector<float> ref(pv.size() / 4);
            std::memcpy(ref.data(), pv.data(), pv.size());
            double maxAbs = 0;
            for (std::size_t i = 0; i < ref.size(); ++i)
                maxAbs = std::max(maxAbs, static_cast<double>(std::abs(ref[i] - out.pixelValues[i])));
            // One uint8 level is 1/255/std <= 0.0151 in normalised units; equal bytes must give equal floats.
            QVERIFY(maxAbs <= (worst == 0 ? 0.0 : 1.0 / 255.0 / 0.26130258 + 1e-6));
        }
    }

    void alphaOverWhite()
    {
        // A 56x56 RGBA image: left half transparent red, right half opaque blue.
        cv::Mat bgra(56, 56, CV_8UC4, cv::Scalar(0, 0, 255, 0));
        bgra(cv::Rect(28, 0, 28, 56)).setTo(cv::Scalar(255, 0, 0, 255));
        std::vector<uchar> png;
        QVERIFY(cv::imencode(".png", bgra, png));
        const auto out = preprocessImage({reinterpret_cast<const char *>(png.data()), png.size()}, m_config);
        QCOMPARE(out.resizedRgb[0], std::uint8_t(255)); // transparent -> white
        QCOMPARE(out.resizedRgb[1], std::uint8_t(255));
        QCOMPARE(out.resizedRgb[2], std::uint8_t(255));
        const std::size_t right = 40 * 3;
        QCOMPARE(out.resizedRgb[right], std::uint8_t(0));
        QCOMPARE(out.resizedRgb[right + 2], std::uint8_t(255));
    }

    void paletteImages()
    {
        const auto plain = preprocessImage(palettePng(false), m_config, {}, "palette.png");
        QVERIFY(plain.resizedRgb[0] == 200 && plain.resizedRgb[1] == 16 && plain.resizedRgb[2] == 32);
        const std::size_t right = 50 * 3;
        QVERIFY(plain.resizedRgb[right] == 16 && plain.resizedRgb[right + 1] == 180 && plain.resizedRgb[right + 2] == 48);
        const auto transparent = preprocessImage(palettePng(true), m_config, {}, "palette-trns.png");
        QVERIFY(transparent.resizedRgb[0] == 255 && transparent.resizedRgb[1] == 255 && transparent.resizedRgb[2] == 255);
        QVERIFY(transparent.resizedRgb[right] == 16 && transparent.resizedRgb[right + 1] == 180);
    }

    void bombsAndBadFiles()
    {
        // A PNG header declaring 100000 x 100000 pixels and nothing else.
        std::string png("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16);
        for (const std::uint32_t v : {100000u, 100000u})
            for (int s = 24; s >= 0; s -= 8)
                png += static_cast<char>((v >> s) & 0xFF);
        png += std::string("\x08\x02\0\0\0", 5);
        const auto declared = readDeclaredSize(png);
        QVERIFY(declared && declared->width == 100000);
        try {
            preprocessImage(png, m_config, {}, "bomb.png");
            QFAIL("a bomb was decoded");
        } catch (const InputError &e) {
            QVERIFY2(QString(e.what()).contains("bomb.png: the header declares 100000x100000 pixels"), e.what());
        }
        QVERIFY_THROWS_EXCEPTION(InputError, preprocessImage("not an image", m_config));
        QVERIFY_THROWS_EXCEPTION(InputError, preprocessImage(png.substr(0, 20), m_config));
        // Sides below 28 after decoding are the reference's error too.
        cv::Mat tiny(10, 100, CV_8UC3, cv::Scalar(1, 2, 3));
        std::vector<uchar> enc;
        cv::imencode(".png", tiny, enc);
        QVERIFY_THROWS_EXCEPTION(InputError, preprocessImage({reinterpret_cast<const char *>(enc.data()), enc.size()}, m_config));
    }

    void resampleIdentityAndUpscale()
    {
        const std::vector<std::uint8_t> flat(4 * 4 * 3, 77);
        const auto up = resizeBicubicLikePillow(flat.data(), 4, 4, 3, 9, 7);
        QCOMPARE(up.size(), std::size_t(9 * 7 * 3));
        QVERIFY(std::all_of(up.begin(), up.end(), [](std::uint8_t v) { return v == 77; }));
    }
};

QTEST_GUILESS_MAIN(TestImagePreprocess)
#include "test_image_preprocess.moc"
