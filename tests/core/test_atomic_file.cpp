// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/util/atomic_file.h"
#include "core/util/error.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QTest>

using namespace unirank;
namespace fs = std::filesystem;

class TestAtomicFile : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    fs::path root() const { return fs::path(m_dir.path().toStdString()); }

    // Temporaries, staging and old folders are hidden entries beside the target.
    std::size_t leftovers() const
    {
        std::size_t n = 0;
        for (const auto &e : fs::directory_iterator(root()))
            n += e.path().filename().string().starts_with(".");
        return n;
    }

private slots:
    void replacesContent()
    {
        const auto f = root() / "a.txt";
        writeFileAtomically(f, "old");
        writeFileAtomically(f, "new content");
        QCOMPARE(QString::fromStdString(readWholeFile(f)), QStringLiteral("new content"));
        QCOMPARE(leftovers(), std::size_t(0));
    }
    void uncommittedWriteLeavesOldFile()
    {
        const auto f = root() / "b.txt";
        writeFileAtomically(f, "kept");
        {
            AtomicFile w(f);
            w.write("half-written");
            // no commit: as if the process failed here
        }
        QCOMPARE(QString::fromStdString(readWholeFile(f)), QStringLiteral("kept"));
        fs::remove(f);
    }
    void folderReplacedOnlyOnSuccess()
    {
        const auto target = root() / "export";
        replaceDirectoryAtomically(target, [](const fs::path &d) { writeFileAtomically(d / "one.txt", "1"); });
        QVERIFY(fs::exists(target / "one.txt"));
        QVERIFY_THROWS_EXCEPTION(std::runtime_error, replaceDirectoryAtomically(target, [](const fs::path &d) {
            writeFileAtomically(d / "two.txt", "2");
            throw std::runtime_error("disk full");
        }));
        QVERIFY(fs::exists(target / "one.txt"));
        QVERIFY(!fs::exists(target / "two.txt"));
        replaceDirectoryAtomically(target, [](const fs::path &d) { writeFileAtomically(d / "three.txt", "3"); });
        QVERIFY(!fs::exists(target / "one.txt"));
        QVERIFY(fs::exists(target / "three.txt"));
        QCOMPARE(leftovers(), std::size_t(0));
    }
    void readMissingFileNamesIt()
    {
        try {
            readWholeFile(root() / "missing.bin");
            QFAIL("expected InputError");
        } catch (const InputError &e) {
            QVERIFY(QString::fromUtf8(e.what()).contains(QStringLiteral("missing.bin")));
        }
    }
};

QTEST_APPLESS_MAIN(TestAtomicFile)
#include "test_atomic_file.moc"
