// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/training_preview.h"

#include "storage/alignment_data.h"
#include "storage/training_data.h"

#include <QHeaderView>
#include <QLabel>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <map>

namespace unirank::ui {
namespace {

/// What the data gives for this stage, counted as the training command will count it.
Result<nlohmann::json> previewData(const QString &file, std::int64_t collection, bool sft, const nlohmann::json &values)
{
    try {
        auto project = storage::Project::open(file.toStdString());
        if (!project)
            return std::unexpected(project.error());
        const int threshold = values.value("relevance_threshold", 1);
        if (sft)
            return storage::buildTrainingData(**project, collection,
                                              {threshold, values.value("use_preferences", true), values.value("first_stage_negatives", true)})
                .stats;
        const auto data = storage::buildAlignmentData(
            **project, collection,
            {threshold, values.value("use_human", true), values.value("use_derived", true),
             static_cast<std::size_t>(values.value("derived_pairs_per_query", 16)),
             static_cast<std::size_t>(values.value("max_candidates_per_query", 16))});
        return data.stats();
    } catch (const InputError &e) {
        return std::unexpected(Error{ErrorKind::BadInput, e.what()});
    } catch (const std::exception &e) {
        return std::unexpected(Error{ErrorKind::Internal, e.what()});
    }
}

/// A readable name of a stats key.
QString statLabel(const std::string &key)
{
    static const std::map<std::string, QString> names{
        {"queries", QObject::tr("queries")},
        {"graded_yes", QObject::tr("graded labels: relevant (yes)")},
        {"graded_no", QObject::tr("graded labels: not relevant (no)")},
        {"preference_yes", QObject::tr("pairwise labels: preferred side (yes)")},
        {"preference_no", QObject::tr("pairwise labels: other side (no)")},
        {"first_stage_no", QObject::tr("unjudged first-stage candidates (no)")},
        {"preference_conflicts_dropped", QObject::tr("contradictory preferences dropped")},
        {"preferences_without_evidence", QObject::tr("preferences without evidence skipped")},
        {"pairs", QObject::tr("preference pairs")},
        {"annotator_conflicts_dropped", QObject::tr("pairs dropped: annotators tied")},
        {"pairs_overridden", QObject::tr("pairs given by two sources (human wins)")},
        {"human", QObject::tr("pairs from annotators")},
        {"derived", QObject::tr("pairs derived from grades")},
        {"mined", QObject::tr("hard negatives mined")}};
    const auto it = names.find(key);
    return it == names.end() ? QString::fromStdString(key) : it->second;
}

} // namespace

TrainingDataPreview::TrainingDataPreview(QWidget *parent)
    : QWidget(parent), m_table(new QTableWidget(0, 2, this)), m_note(new QLabel(this))
{
    m_table->setHorizontalHeaderLabels({tr("Training data"), tr("Count")});
    m_table->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_table->verticalHeader()->hide();
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setMaximumHeight(190);
    m_note->setWordWrap(true);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_table);
    layout->addWidget(m_note);
    connect(&m_watcher, &QFutureWatcherBase::finished, this, [this] {
        const auto [generation, result] = m_watcher.result();
        if (generation == m_generation) { // else a newer preview is on its way
            m_shown = m_running;
            showStats(result, m_running.sft);
        }
        startNext();
    });
}

TrainingDataPreview::~TrainingDataPreview() { m_watcher.waitForFinished(); }

void TrainingDataPreview::refresh(const QString &projectFile, std::int64_t collectionId, bool instructionTuning,
                                  const nlohmann::json &settings, bool force)
{
    // Only what the counting reads; the same request again changes nothing.
    static const char *used[] = {"relevance_threshold", "use_preferences", "first_stage_negatives", "use_human",
                                 "use_derived", "derived_pairs_per_query", "max_candidates_per_query"};
    nlohmann::json relevant = nlohmann::json::object();
    for (const char *key : used)
        if (settings.contains(key))
            relevant[key] = settings.at(key);
    Request request{projectFile, collectionId, instructionTuning, relevant};
    if (!force && m_shown && *m_shown == request && !m_watcher.isRunning())
        return;
    ++m_generation;
    m_next = std::move(request);
    if (!m_watcher.isRunning()) // else it starts when the one running ends: the GUI thread never waits
        startNext();
}

void TrainingDataPreview::startNext()
{
    if (!m_next)
        return;
    const auto request = *m_next;
    m_next.reset();
    m_running = request;
    const auto generation = m_generation;
    m_watcher.setFuture(QtConcurrent::run([request, generation] {
        return std::make_pair(generation, previewData(request.file, request.collection, request.sft, request.settings));
    }));
}

void TrainingDataPreview::clear()
{
    ++m_generation;
    m_next.reset();
    m_shown.reset();
    m_table->setRowCount(0);
    m_note->clear();
}

QString TrainingDataPreview::note() const { return m_note->text(); }

void TrainingDataPreview::showStats(const Result<nlohmann::json> &result, bool instructionTuning)
{
    m_table->setRowCount(0);
    if (!result) {
        m_note->setText(tr("No training data: %1").arg(QString::fromStdString(result.error().message)));
        emit updated();
        return;
    }
    const auto add = [this](const QString &label, const nlohmann::json &n) {
        const int row = m_table->rowCount();
        m_table->insertRow(row);
        m_table->setItem(row, 0, new QTableWidgetItem(label));
        auto *count = new QTableWidgetItem(QString::fromStdString(n.dump()));
        count->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        m_table->setItem(row, 1, count);
    };
    // Queries and what training uses first, then what was dropped.
    static const std::vector<std::string> order{"queries", "graded_yes", "graded_no", "preference_yes", "preference_no",
                                                "first_stage_no", "pairs", "pairs_by_source"};
    auto rest = *result;
    for (const auto &key : order) {
        if (!rest.contains(key))
            continue;
        if (rest.at(key).is_object())
            for (const auto &[source, n] : rest.at(key).items())
                add(statLabel(source), n);
        else
            add(statLabel(key), rest.at(key));
        rest.erase(key);
    }
    for (const auto &[key, value] : rest.items())
        if (!value.is_object())
            add(statLabel(key), value);
    const auto heldOut = tr("Held-out queries (validation_split) are split again: selection queries choose the published "
                            "checkpoint, reporting queries (report_split) only report on it.");
    m_note->setText(instructionTuning ? tr("Queries are split into training and held-out ones. %1").arg(heldOut)
                                      : tr("Hard negatives are mined with the model at the start of every round "
                                           "(mined_pairs_per_query per query). %1")
                                            .arg(heldOut));
    emit updated();
}

} // namespace unirank::ui
