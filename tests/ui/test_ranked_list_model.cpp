// SPDX-License-Identifier: GPL-3.0-or-later
// The Rank tab's table model: passes QAbstractItemModelTester through resets and label edits, shows
// what a user expects in each column, and signals exactly the edited cell.
#include "ui/ranked_list_model.h"

#include <QAbstractItemModelTester>
#include <QMimeData>
#include <QSignalSpy>
#include <QTest>

using namespace unirank;
using namespace unirank::ui;

class TestRankedListModel : public QObject {
    Q_OBJECT

private slots:
    void modelContract()
    {
        RankedListModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(model.rowCount(), 0);
        model.setRows({{1, "t1", Modality::Text, "A red apple", {}, 2.5, 0.924, -1, 3, ""},
                       {2, "i1", Modality::Image, "", "/media/i1.png", 1.0, std::nullopt, 2, -1, ""},
                       {3, "b1", Modality::TextImage, "caption", "/media/b1.png", -0.5, 0.3775, 0, std::nullopt, "not scored: test"}});
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(model.columnCount(), int(RankedListModel::ColumnCount));
        const auto cell = [&](int row, int col) { return model.data(model.index(row, col)).toString(); };
        QCOMPARE(cell(0, RankedListModel::RankColumn), QString("1"));
        QCOMPARE(cell(0, RankedListModel::ScoreColumn), QString("0.924"));
        QCOMPARE(cell(1, RankedListModel::ScoreColumn), QString("1")); // no probability: the raw score
        QCOMPARE(cell(1, RankedListModel::CandidateColumn), QString("i1")); // no text: the id
        QCOMPARE(cell(2, RankedListModel::ModalityColumn), QString("text+image"));
        QCOMPARE(cell(2, RankedListModel::ScoreColumn), QString("error")); // could not be scored
        QVERIFY(model.data(model.index(2, 0), Qt::ToolTipRole).toString().contains("not scored: test"));
        QCOMPARE(cell(0, RankedListModel::ChangeColumn), QString("+3"));
        QCOMPARE(cell(1, RankedListModel::ChangeColumn), QString("-1"));
        QCOMPARE(cell(0, RankedListModel::LabelColumn), QString());
        QCOMPARE(model.data(model.index(1, 0), RankedListModel::ImagePathRole).toString(), QString("/media/i1.png"));
        QCOMPARE(model.headerData(RankedListModel::LabelColumn, Qt::Horizontal).toString(), QString("Label"));

        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QVERIFY(model.setGrade(1, 3));
        QCOMPARE(changed.count(), 1);
        QCOMPARE(changed.first().at(0).toModelIndex(), model.index(0, RankedListModel::LabelColumn));
        QCOMPARE(cell(0, RankedListModel::LabelColumn), QString("3"));
        QVERIFY(!model.setGrade(99, 1));
        QCOMPARE(model.rowOf(3), 2);
        QVERIFY(!model.rowAt(3));
        // Dragging b1 onto t1 reports "b1 better than t1"; nothing moves.
        QSignalSpy dropped(&model, &RankedListModel::preferenceDropped);
        std::unique_ptr<QMimeData> mime(model.mimeData({model.index(2, 0)}));
        QVERIFY(mime);
        QVERIFY(model.canDropMimeData(mime.get(), Qt::MoveAction, -1, -1, model.index(0, 0)));
        QVERIFY(!model.canDropMimeData(mime.get(), Qt::MoveAction, -1, -1, model.index(2, 0))); // onto itself
        QVERIFY(!model.dropMimeData(mime.get(), Qt::MoveAction, -1, -1, model.index(0, 0)));
        QCOMPARE(dropped.count(), 1);
        QCOMPARE(dropped.first().at(0).value<std::int64_t>(), std::int64_t(3));
        QCOMPARE(dropped.first().at(1).value<std::int64_t>(), std::int64_t(1));
        QCOMPARE(model.rowOf(3), 2);
        QMimeData foreign;
        foreign.setText("3");
        QVERIFY(!model.canDropMimeData(&foreign, Qt::MoveAction, -1, -1, model.index(0, 0)));
        model.clear();
        QCOMPARE(model.rowCount(), 0);
    }
};

QTEST_GUILESS_MAIN(TestRankedListModel)
#include "test_ranked_list_model.moc"
