// SPDX-License-Identifier: GPL-3.0-or-later
// safetensors reader/writer and checkpoint folders: round trips for every dtype we use, sharded
// folders, and a catalogue of malformed files that must give an error naming the file and tensor.
#include "core/tensor/checkpoint.h"
#include "core/tensor/safetensors.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QTest>

#include <cstring>

using namespace unirank;
using namespace unirank::tensor;
namespace fs = std::filesystem;

namespace {

std::span<const std::byte> asBytes(const auto &v)
{
    return std::as_bytes(std::span(v));
}

/// Header JSON + data as raw bytes, for crafting bad files.
std::string rawFile(const std::string &json, const std::string &data, std::uint64_t declaredLength = ~0ull)
{
    const std::uint64_t n = declaredLength == ~0ull ? json.size() : declaredLength;
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i)
        out[static_cast<std::size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xFF);
    return out + json + data;
}

} // namespace

class TestSafetensors : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    fs::path dir() const { return m_tmp.path().toStdString(); }

    QString openError(const std::string &bytes)
    {
        const auto path = dir() / "bad.safetensors";
        test::writeText(path, bytes);
        auto f = SafetensorsFile::open(path);
        if (f)
            return {};
        return QString::fromStdString(f.error().message);
    }

private slots:
    void roundTripsEveryDtype()
    {
        const std::vector<float> f32{1.5f, -2.0f, 3.25f, 0.0f, 7.0f, 8.5f};
        const std::vector<std::uint16_t> bf16{0x3F80, 0xC000};
        const std::vector<std::int64_t> i64{-1, 2, 1ll << 40};
        const std::vector<std::uint8_t> u8{1, 2, 3};
        const std::vector<std::int32_t> empty;
        const auto path = dir() / "rt.safetensors";
        writeSafetensors(path, {{"w", DType::F32, {2, 3}, asBytes(f32)},
                                {"b", DType::BF16, {2}, asBytes(bf16)},
                                {"ids", DType::I64, {3}, asBytes(i64)},
                                {"px", DType::U8, {3}, asBytes(u8)},
                                {"none", DType::I32, {0, 4}, asBytes(empty)},
                                {"scalar", DType::F32, {}, asBytes(std::vector<float>{42.0f})}});
        auto file = SafetensorsFile::open(path);
        QVERIFY2(file.has_value(), file ? "" : file.error().message.c_str());
        QCOMPARE((*file)->tensors().size(), std::size_t(6));
        QCOMPARE((*file)->metadata().at("format"), std::string("pt"));
        const auto *w = (*file)->find("w");
        QVERIFY(w && w->dtype == DType::F32 && w->shape == std::vector<std::int64_t>({2, 3}));
        QVERIFY(std::memcmp((*file)->bytes(*w).data(), f32.data(), 24) == 0);
        const auto *ids = (*file)->find("ids");
        QVERIFY(std::memcmp((*file)->bytes(*ids).data(), i64.data(), 24) == 0);
        QCOMPARE((*file)->find("none")->byteSize(), std::uint64_t(0));
        QCOMPARE((*file)->find("scalar")->numel(), std::int64_t(1));
        QVERIFY(!(*file)->find("missing"));
        // The header is padded to 8 bytes and the 8-byte types come first (reference writer order).
        const auto raw = test::readText(path);
        std::uint64_t n = 0;
        std::memcpy(&n, raw.data(), 8);
        QCOMPARE(n % 8, std::uint64_t(0));
        QCOMPARE((*file)->find("ids")->begin, std::uint64_t(0));
    }

    void readsTheGoldenCheckpoint()
    {
        auto file = SafetensorsFile::open(test::goldenDir() / "model_a" / "model.safetensors");
        QVERIFY(file.has_value());
        QCOMPARE((*file)->tensors().size(), std::size_t(57));
        QVERIFY((*file)->find("visual.patch_embed.proj.weight")->shape == std::vector<std::int64_t>({32, 3, 2, 14, 14}));
    }

    void writerRejectsBadInput()
    {
        const std::vector<float> f{1, 2, 3};
        QVERIFY_THROWS_EXCEPTION(InputError, writeSafetensors(dir() / "x.safetensors", {{"a", DType::F32, {2}, asBytes(f)}}));
        QVERIFY_THROWS_EXCEPTION(InputError, writeSafetensors(dir() / "x.safetensors", {{"a", DType::F32, {3}, asBytes(f)},
                                                                                        {"a", DType::F32, {3}, asBytes(f)}}));
        QVERIFY(!fs::exists(dir() / "x.safetensors"));
    }

    void malformedCatalogue_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("expected");
        const std::string data8(8, '\0');
        const auto ok = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
        QTest::newRow("empty file") << QByteArray() << "truncated";
        QTest::newRow("truncated length") << QByteArray("\x05\x00\x00", 3) << "truncated";
        const auto pastEnd = rawFile(ok, data8, 4096);
        QTest::newRow("header past end") << QByteArray(pastEnd.data(), qsizetype(pastEnd.size())) << "runs past the end";
        const auto huge = rawFile(ok, data8, 1ull << 40);
        QTest::newRow("header too large") << QByteArray(huge.data(), qsizetype(huge.size())) << "limit";
        const auto notJson = rawFile("{not json", data8);
        QTest::newRow("not json") << QByteArray(notJson.data(), qsizetype(notJson.size())) << "not valid JSON";
        const auto notObject = rawFile("[1,2]", "");
        QTest::newRow("not object") << QByteArray(notObject.data(), qsizetype(notObject.size())) << "not a JSON object";
        const auto dup = rawFile(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", data8);
        QTest::newRow("duplicate") << QByteArray(dup.data(), qsizetype(dup.size())) << "tensor 'a': listed twice";
        const auto dtype = rawFile(R"({"a":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}})", data8);
        QTest::newRow("unknown dtype") << QByteArray(dtype.data(), qsizetype(dtype.size())) << "tensor 'a': unknown dtype 'F33'";
        const auto neg = rawFile(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", data8);
        QTest::newRow("negative shape") << QByteArray(neg.data(), qsizetype(neg.size())) << "tensor 'a': field 'shape'";
        const auto size = rawFile(R"({"a":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}})", data8);
        QTest::newRow("wrong dtype size") << QByteArray(size.data(), qsizetype(size.size())) << "tensor 'a': data_offsets span 8 bytes but dtype F16 x shape needs 4";
        const auto past = rawFile(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", data8);
        QTest::newRow("data past end") << QByteArray(past.data(), qsizetype(past.size())) << "tensor 'a': data_offsets [0, 16) run past the end";
        const auto overlap = rawFile(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", data8);
        QTest::newRow("overlap") << QByteArray(overlap.data(), qsizetype(overlap.size())) << "overlaps tensor 'a'";
        const auto gap = rawFile(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", data8);
        QTest::newRow("gap") << QByteArray(gap.data(), qsizetype(gap.size())) << "tensor 'a': a gap of 4 bytes";
        const auto trailing = rawFile(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", data8);
        QTest::newRow("trailing bytes") << QByteArray(trailing.data(), qsizetype(trailing.size())) << "belong to no tensor";
        const auto offsets = rawFile(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", data8);
        QTest::newRow("reversed offsets") << QByteArray(offsets.data(), qsizetype(offsets.size())) << "end before they begin";
        const auto meta = rawFile(R"({"__metadata__":{"format":1},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", data8);
        QTest::newRow("metadata value") << QByteArray(meta.data(), qsizetype(meta.size())) << "__metadata__ value 'format'";
        const auto noShape = rawFile(R"({"a":{"dtype":"F32","data_offsets":[0,8]}})", data8);
        QTest::newRow("missing shape") << QByteArray(noShape.data(), qsizetype(noShape.size())) << "tensor 'a': missing field 'shape'";
    }

    void malformedCatalogue()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, expected);
        const auto error = openError(bytes.toStdString());
        QVERIFY2(!error.isEmpty(), "a malformed file was accepted");
        QVERIFY2(error.contains("bad.safetensors"), qPrintable(error));
        QVERIFY2(error.contains(expected), qPrintable(error));
    }

    void truncatedCopyOfRealCheckpoint()
    {
        const auto good = test::readText(test::goldenDir() / "model_a" / "model.safetensors");
        const auto error = openError(good.substr(0, good.size() - 100));
        QVERIFY2(error.contains("run past the end"), qPrintable(error));
    }

    void shardedFolder()
    {
        const auto ckptDir = dir() / "sharded";
        fs::create_directories(ckptDir);
        const std::vector<float> a{1, 2}, b{3, 4, 5};
        writeSafetensors(ckptDir / "model-00001-of-00002.safetensors", {{"x.a", DType::F32, {2}, asBytes(a)}});
        writeSafetensors(ckptDir / "model-00002-of-00002.safetensors", {{"x.b", DType::F32, {3}, asBytes(b)}});
        test::writeText(ckptDir / "model.safetensors.index.json",
                        R"({"metadata":{"total_size":20},"weight_map":{"x.a":"model-00001-of-00002.safetensors","x.b":"model-00002-of-00002.safetensors"}})");
        auto ckpt = Checkpoint::open(ckptDir);
        QVERIFY2(ckpt.has_value(), ckpt ? "" : ckpt.error().message.c_str());
        QCOMPARE(ckpt->size(), std::size_t(2));
        QCOMPARE(ckpt->find("x.b")->info->numel(), std::int64_t(3));
        QVERIFY(ckpt->describe(*ckpt->find("x.b")).ends_with("model-00002-of-00002.safetensors"));

        test::writeText(ckptDir / "model.safetensors.index.json",
                        R"({"weight_map":{"x.a":"model-00001-of-00002.safetensors","x.c":"model-00002-of-00002.safetensors"}})");
        auto missing = Checkpoint::open(ckptDir);
        QVERIFY(!missing);
        QVERIFY2(missing.error().message.find("tensor 'x.c' is listed in model.safetensors.index.json but missing") !=
                     std::string::npos,
                 missing.error().message.c_str());

        test::writeText(ckptDir / "model.safetensors.index.json", R"({"weight_map":{"x.a":"model-00003-of-00003.safetensors"}})");
        auto noShard = Checkpoint::open(ckptDir);
        QVERIFY(!noShard);
        QVERIFY2(noShard.error().message.find("model-00003-of-00003.safetensors") != std::string::npos,
                 noShard.error().message.c_str());

        test::writeText(ckptDir / "model.safetensors.index.json", R"({"weight_map":{"x.a":"../escape.safetensors"}})");
        QVERIFY(!Checkpoint::open(ckptDir));
        QVERIFY(!Checkpoint::open(dir() / "no-such-folder"));
    }
};

QTEST_GUILESS_MAIN(TestSafetensors)
#include "test_safetensors.moc"
