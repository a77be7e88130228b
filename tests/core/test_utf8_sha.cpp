// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/util/error.h"
#include "core/util/sha256.h"
#include "core/util/utf8.h"

#include <QTest>

using namespace unirank;

class TestUtf8Sha : public QObject {
    Q_OBJECT
private slots:
    void utf8_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<int>("firstBad"); // -1 = valid
        QTest::newRow("ascii") << QByteArray("plain text") << -1;
        QTest::newRow("two-byte") << QByteArray("caf\xC3\xA9") << -1;
        QTest::newRow("cjk") << QByteArray("\xE6\x97\xA5\xE6\x9C\xAC") << -1;
        QTest::newRow("emoji") << QByteArray("\xF0\x9F\x98\x80") << -1;
        QTest::newRow("lone continuation") << QByteArray("ab\x80") << 2;
        QTest::newRow("overlong slash") << QByteArray("\xC0\xAF") << 0;
        QTest::newRow("overlong 3-byte") << QByteArray("x\xE0\x80\xAF") << 1;
        QTest::newRow("surrogate") << QByteArray("\xED\xA0\x80") << 0;
        QTest::newRow("above U+10FFFF") << QByteArray("\xF4\x90\x80\x80") << 0;
        QTest::newRow("truncated") << QByteArray("ok\xE6\x97") << 2;
        QTest::newRow("latin1 byte") << QByteArray("caf\xE9!") << 3;
    }
    void utf8()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(int, firstBad);
        const auto bad = findInvalidUtf8(std::string_view(bytes.constData(), static_cast<std::size_t>(bytes.size())));
        if (firstBad < 0)
            QVERIFY(!bad.has_value());
        else {
            QVERIFY(bad.has_value());
            QCOMPARE(static_cast<int>(*bad), firstBad);
        }
    }
    void sha256KnownVectors()
    {
        QCOMPARE(QString::fromStdString(sha256Hex("")),
                 QStringLiteral("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
        QCOMPARE(QString::fromStdString(sha256Hex("abc")),
                 QStringLiteral("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    }
    void sha256FileMatchesBytes()
    {
        const std::string path = QDir::tempPath().toStdString() + "/unirank-sha-test.bin";
        std::string bytes(200000, '\0');
        for (std::size_t i = 0; i < bytes.size(); ++i)
            bytes[i] = static_cast<char>(i * 31 % 251);
        QFile f(QString::fromStdString(path));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(bytes.data(), static_cast<qint64>(bytes.size()));
        f.close();
        QCOMPARE(sha256File(path), sha256Hex(bytes));
        f.remove();
        QVERIFY_THROWS_EXCEPTION(InputError, sha256File(path));
    }
};

QTEST_APPLESS_MAIN(TestUtf8Sha)
#include "test_utf8_sha.moc"
