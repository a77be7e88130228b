// SPDX-License-Identifier: GPL-3.0-or-later
// Team roles are the server's rules, not the GUI's: an annotator connected in their own name can label
// and undo their own labels, and the server refuses their imports, deletions, model versions and any
// label, undo or pair claim in another analyst's name. Curators import and delete; trainers publish.
// Server only (test_team_roles_pg): a project file has one analyst and no roles.
#include "cli_run.h"
#include "storage/dataset_export.h"
#include "storage/dataset_import.h"
#include "storage/label_writer.h"
#include "storage/pair_claims.h"
#include "storage/repo/catalog.h"
#include "storage/repo/judgements.h"
#include "storage/repo/models.h"
#include "storage/repo/training.h"
#include "storage/team_roles.h"
#include "test_backend.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QTest>

using namespace unirank;
using namespace unirank::storage;

class TestTeamRoles : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    std::string m_owner;
    std::int64_t m_query = 0;
    std::vector<std::int64_t> m_cands;

    /// The project's URL with another login.
    std::string as(const std::string &user) const
    {
        const auto at = m_owner.find('@');
        return "postgresql://" + user + m_owner.substr(at);
    }

private slots:
    void initTestCase()
    {
        QVERIFY(test::serverBackend());
        m_owner = test::newProjectLocation(m_dir.path().toStdString(), "team");
        auto p = std::move(test::createProject(m_owner).value());
        QVERIFY(importDataset(*p, test::smokeDataset(), ImportOptions{"c", "test", {}}));
        auto &db = p->db();
        QVERIFY(setUpTeamRoles(db));
        QVERIFY(setUpTeamRoles(db)); // idempotent
        QVERIFY(grantTeamRole(db, "alice", TeamRole::Annotator));
        QVERIFY(grantTeamRole(db, "bob", TeamRole::Annotator));
        QVERIFY(grantTeamRole(db, "carol", TeamRole::Curator));
        QVERIFY(grantTeamRole(db, "tom", TeamRole::Trainer));
        QVERIFY(!grantTeamRole(db, "pg_evil", TeamRole::Curator));
        QVERIFY(!grantTeamRole(db, "a b", TeamRole::Curator));
        const auto team = listTeam(db).value();
        QCOMPARE(team.size(), std::size_t(4));
        QCOMPARE(team[0].user, std::string("alice"));
        QCOMPARE(team[0].roles, std::vector<std::string>{"annotator"});
        const auto c = resolveCollection(db, "c");
        m_query = listQueries(db, c).front().id;
        for (const auto &row : listCandidates(db, c))
            m_cands.push_back(row.id);
    }

    void annotatorLabelsInTheirOwnNameOnly()
    {
        LabelWriter alice(as("alice"));
        const auto own = alice.addGraded({m_query, m_cands[0], 2, "alice"}).get();
        QVERIFY2(own, own ? "" : own.error().message.c_str());
        QVERIFY(alice.addPair({m_query, m_cands[0], m_cands[1], PairOutcome::Left, "alice", PairSource::Human, false, ""}).get());
        const auto forged = alice.addGraded({m_query, m_cands[0], 3, "bob"}).get();
        QVERIFY(!forged);
        QVERIFY(forged.error().kind == ErrorKind::BadInput);
        QVERIFY2(forged.error().message.find("does not allow") != std::string::npos, forged.error().message.c_str());
        QVERIFY(alice.setRetracted(LabelTable::Graded, *own, true).get()); // undo of her own label

        LabelWriter bob(as("bob"));
        const auto bobs = bob.addGraded({m_query, m_cands[1], 1, "bob"}).get();
        QVERIFY(bobs);
        const auto undoOthers = alice.setRetracted(LabelTable::Graded, *bobs, true).get();
        QVERIFY(!undoOthers); // the server hides bob's row from alice's UPDATE: "no label"
        auto owner = Database::open(m_owner);
        QVERIFY(!findGradedLabel(owner, *bobs)->retractedAt);

        auto aliceDb = Database::open(as("alice"));
        QCOMPARE(claimPair(aliceDb, {m_query, m_cands[2], m_cands[3], "alice", false}).value(), ClaimOutcome::Claimed);
        QVERIFY(!claimPair(aliceDb, {m_query, m_cands[4], m_cands[5], "bob", false}));
    }

    void annotatorCannotImportDeleteOrPublish()
    {
        auto alice = Project::open(as("alice"));
        QVERIFY2(alice, alice ? "" : alice.error().message.c_str()); // reads the whole project
        QVERIFY(!listQueries((*alice)->db(), resolveCollection((*alice)->db(), "c")).empty());
        const auto imported = importDataset(**alice, test::smokeDataset(), ImportOptions{"mine", "test", {}});
        QVERIFY(!imported);
        QVERIFY2(imported.error().message.find("does not allow") != std::string::npos, imported.error().message.c_str());
        QVERIFY_THROWS_EXCEPTION(StorageError, (*alice)->db().exec("DELETE FROM collections"));
        QVERIFY_THROWS_EXCEPTION(StorageError,
                                 insertModelVersion((*alice)->db(), {0, "mine", ModelKind::Base, "/m", "h", std::nullopt, {}, ""}));
        QVERIFY_THROWS_EXCEPTION(StorageError, (*alice)->db().exec("UPDATE pair_labels SET outcome = 'right'"));
    }

    void curatorImportsAndDeletesTrainerPublishes()
    {
        auto carol = std::move(Project::open(as("carol")).value());
        const auto imported = importDataset(*carol, test::smokeDataset(), ImportOptions{"second", "test", {}});
        QVERIFY2(imported, imported ? "" : imported.error().message.c_str());
        carol->db().prepare("DELETE FROM collections WHERE name = ?1").bind(1, "second").run();
        QCOMPARE(carol->db().changes(), 1);
        QVERIFY_THROWS_EXCEPTION(StorageError,
                                 insertModelVersion(carol->db(), {0, "c", ModelKind::Base, "/m", "h", std::nullopt, {}, ""}));

        auto tom = Database::open(as("tom"));
        const auto base = insertModelVersion(tom, {0, "base", ModelKind::Base, "/m/base", "h0", std::nullopt, {}, ""});
        QVERIFY(base > 0);
        // What a training run writes: the run, its status, its metrics (an upsert), a mined preference.
        const auto run = insertTrainingRun(tom, "sft", {{"lr", 1e-4}}, base);
        setTrainingStatus(tom, run, TrainingStatus::Running, "", std::nullopt);
        insertTrainingMetric(tom, run, {1, "loss", 0.7});
        insertTrainingMetric(tom, run, {1, "loss", 0.6});
        insertPairLabel(tom, {m_query, m_cands[6], m_cands[7], PairOutcome::Left, std::nullopt, PairSource::Mined, false, ""});
        QCOMPARE(trainingMetrics(tom, run).front().value, 0.6);
        QVERIFY_THROWS_EXCEPTION(StorageError, tom.exec("DELETE FROM collections"));
    }

    void theCommandLineManagesTheTeam()
    {
        const auto cli = [](const QStringList &args) { return test::runCli(QStringLiteral(UNIRANK_CLI), args); };
        const auto url = QString::fromStdString(m_owner);
        auto added = cli({"team", url, "add", "dora", "--role", "curator"});
        QVERIFY2(added.code == 0, qPrintable(added.err));
        const auto listed = cli({"team", url, "list"});
        QVERIFY2(listed.code == 0, qPrintable(listed.err));
        QVERIFY2(listed.out.contains("dora\tcurator") && listed.out.contains("alice\tannotator"), qPrintable(listed.out));
        QCOMPARE(cli({"team", url, "remove", "dora", "--role", "curator"}).code, 0);
        QVERIFY(!cli({"team", url, "list"}).out.contains("dora"));
        // An annotator cannot hand out roles: the server refuses it.
        const auto refused = cli({"team", QString::fromStdString(as("alice")), "add", "eve", "--role", "curator"});
        QVERIFY(refused.code != 0);
    }

    void filesHaveNoRoles()
    {
        auto file = Database::open(":memory:");
        const auto r = setUpTeamRoles(file);
        QVERIFY(!r);
        QVERIFY(r.error().message.find("server") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestTeamRoles)
#include "test_team_roles.moc"
