// SPDX-License-Identifier: GPL-3.0-or-later
// The desktop app on a team project (server only, test_team_window_pg): opened by URL, the analyst
// labels in their login's name, the window never shows the password, a pair on one analyst's screen is
// claimed (another gets "taken", then "judged"), a skipped pair goes back, and another analyst's label
// reaches the open Label tab.
#include "storage/dataset_import.h"
#include "storage/label_writer.h"
#include "storage/pair_claims.h"
#include "storage/team_roles.h"
#include "test_backend.h"
#include "test_support.h"
#include "ui/label_tab.h"
#include "ui/main_window.h"
#include "ui/project_context.h"

#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace unirank;

class TestTeamWindow : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

private slots:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void analystLabelsOnTheServer()
    {
        QVERIFY(test::serverBackend());
        const auto owner = test::newProjectLocation(m_dir.path().toStdString(), "team");
        {
            auto project = std::move(test::createProject(owner).value());
            const auto data = std::filesystem::path(m_dir.path().toStdString()) / "tiny";
            test::makeTinyDataset(data);
            QVERIFY(storage::importDataset(*project, data, {}));
            QVERIFY(storage::setUpTeamRoles(project->db()));
            QVERIFY(storage::grantTeamRole(project->db(), "alice", storage::TeamRole::Annotator));
            QVERIFY(storage::grantTeamRole(project->db(), "bob", storage::TeamRole::Annotator));
        }
        const auto at = owner.find('@');
        // The password is made up: the test server trusts loopback logins, so it is sent and ignored.
        const auto alice = "postgresql://alice:s3cret" + owner.substr(at);
        const auto bob = "postgresql://bob" + owner.substr(at);

        ui::MainWindow window;
        QSignalSpy ready(window.labelTab(), &ui::LabelTab::queueReady);
        QVERIFY(window.openProject(QString::fromStdString(alice)));
        QVERIFY(!window.windowTitle().contains("s3cret"));
        QVERIFY(window.windowTitle().contains("alice:***@"));
        QCOMPARE(window.context().annotator(), QStringLiteral("alice")); // the login, not a typed name
        window.tabs()->setCurrentWidget(window.labelTab());
        window.show();
        QVERIFY(ready.count() > 0 || ready.wait(20000));
        auto *tab = window.labelTab();
        QTRY_VERIFY_WITH_TIMEOUT(tab->currentPair().has_value(), 10000); // shown once alice holds its claim
        const auto shown = *tab->currentPair();
        const storage::PairClaimRequest same{std::stoll(shown.queryId), std::stoll(shown.left), std::stoll(shown.right),
                                             "bob", false};
        auto bobDb = storage::Database::open(bob);
        QCOMPARE(storage::claimPair(bobDb, same).value(), storage::ClaimOutcome::Taken); // on alice's screen
        QVERIFY(tab->judge(PairOutcome::Left));
        QTRY_COMPARE_WITH_TIMEOUT(window.context().pendingLabels(), 0, 10000);
        QCOMPARE(window.context().db().queryInt("SELECT count(*) FROM pair_labels p JOIN annotators a ON "
                                                 "a.id = p.annotator_id WHERE a.name = 'alice'"),
                 std::optional<std::int64_t>(1));
        QCOMPARE(storage::claimPair(bobDb, same).value(), storage::ClaimOutcome::Judged); // alice labelled it

        // A pair alice skips goes back to the team at once (not after the claim's lease).
        QTRY_VERIFY_WITH_TIMEOUT(tab->currentPair().has_value(), 10000);
        const auto second = *tab->currentPair();
        tab->skip();
        const storage::PairClaimRequest skipped{std::stoll(second.queryId), std::stoll(second.left),
                                                std::stoll(second.right), "bob", false};
        QTRY_VERIFY_WITH_TIMEOUT(storage::claimPair(bobDb, skipped).value() == storage::ClaimOutcome::Claimed, 10000);
        QVERIFY(storage::releasePairClaims(bobDb, "bob"));

        QSignalSpy refreshed(tab, &ui::LabelTab::judgedRefreshed);
        {
            auto db = storage::Database::open(bob);
            const auto q = db.queryInt("SELECT min(id) FROM queries").value();
            const auto a = db.queryInt("SELECT min(candidate_id) FROM candidate_lists WHERE query_id = " + std::to_string(q)).value();
            const auto b = db.queryInt("SELECT max(candidate_id) FROM candidate_lists WHERE query_id = " + std::to_string(q)).value();
            storage::LabelWriter writer(bob);
            QVERIFY(writer.addPair({q, a, b, PairOutcome::Right, "bob", PairSource::Human, false, "random"}).get());
        }
        QVERIFY(refreshed.wait(10000) || refreshed.wait(5000)); // own label first, then bob's
        QTRY_VERIFY_WITH_TIMEOUT(tab->progressText().contains("by the team: 1"), 10000);
        const auto recent = QSettings().value(QStringLiteral("recentProjects")).toStringList();
        QVERIFY(!recent.join(' ').contains("s3cret")); // a URL with a password is not remembered
    }
};

QTEST_MAIN(TestTeamWindow)
#include "test_team_window.moc"
