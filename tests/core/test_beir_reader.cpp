// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/formats/beir.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QTest>

using namespace unirank;
namespace fs = std::filesystem;

class TestBeirReader : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    fs::path root() const { return fs::path(m_dir.path().toStdString()); }

private slots:
    void readsSmokeSet()
    {
        std::size_t progressCalls = 0;
        BeirReadOptions options;
        options.onImageProgress = [&](std::size_t, std::size_t) { ++progressCalls; };
        const auto d = readBeirFolder(test::smokeDataset(), options);
        QCOMPARE(d.queries.size(), std::size_t(20));
        QCOMPARE(d.candidates.size(), std::size_t(515));
        QCOMPARE(d.images.size(), std::size_t(251));
        QCOMPARE(progressCalls, std::size_t(251));
        QCOMPARE(d.qrels.size(), std::size_t(599));
        QVERIFY(d.run.has_value());
        QCOMPARE(d.run->size(), std::size_t(599));
        QCOMPARE(d.runTag, std::string("bm25-hidden-title"));
        std::size_t images = 0;
        for (const auto &c : d.candidates)
            images += c.modality == Modality::Image;
        QCOMPARE(images, std::size_t(251));
        for (const auto &[rel, img] : d.images) {
            QCOMPARE(img.info.format, std::string("png"));
            QVERIFY(img.info.width > 0 && img.info.height > 0 && img.info.width <= 224 && img.info.height <= 224);
            QCOMPARE(img.sha256.size(), std::size_t(64));
        }
    }
    void keepsUnknownFieldsAndInfersModality()
    {
        test::makeTinyDataset(root() / "tiny");
        const auto d = readBeirFolder(root() / "tiny");
        QCOMPARE(d.candidates[1].metadata["source"]["pack"].get<int>(), 7);
        QVERIFY(d.candidates[2].modality == Modality::Text); // inferred
        QVERIFY(d.candidates[4].modality == Modality::TextImage);
        QCOMPARE(d.queries[1].metadata["lang"].get<std::string>(), std::string("en"));
    }
    void pathsMustStayInside()
    {
        const auto ds = root() / "paths";
        fs::create_directories(ds / "images");
        test::writeText(ds / "images" / "x.png", "x");
        QVERIFY(resolveInsideFolder(ds, "images/x.png", {}) == fs::weakly_canonical(ds / "images/x.png"));
        QVERIFY_THROWS_EXCEPTION(InputError, resolveInsideFolder(ds, "/etc/passwd", {}));
        QVERIFY_THROWS_EXCEPTION(InputError, resolveInsideFolder(ds, "images/../../x.png", {}));
        QVERIFY_THROWS_EXCEPTION(InputError, resolveInsideFolder(ds, "", {}));
        test::writeText(root() / "outside.png", "x");
        fs::create_directory_symlink(root(), ds / "escape");
        QVERIFY_THROWS_EXCEPTION(InputError, resolveInsideFolder(ds, "escape/outside.png", {}));
        // a symlink that stays inside the folder is fine
        QVERIFY(resolveInsideFolder(ds, "escape/paths/images/x.png", {}) == fs::weakly_canonical(ds / "images/x.png"));
    }
    void idsMustBeTrecSafe()
    {
        QVERIFY_THROWS_EXCEPTION(InputError, checkExternalId("has space", {}));
        QVERIFY_THROWS_EXCEPTION(InputError, checkExternalId("tab\tid", {}));
        QVERIFY_THROWS_EXCEPTION(InputError, checkExternalId("", {}));
        checkExternalId("dev-q0006", {});
    }
};

QTEST_APPLESS_MAIN(TestBeirReader)
#include "test_beir_reader.moc"
