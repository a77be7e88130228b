// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/label_tab.h"

#include "storage/pair_claims.h"

#include "storage/browse.h"
#include "ui/async_result.h"
#include "ui/candidate_view.h"

#include <QAction>
#include <QCheckBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QLabel>
#include <QPushButton>
#include <QSettings>
#include <QTimer>
#include <QVBoxLayout>

namespace unirank::ui {
namespace {

labeling::PairQueueOptions loadOptions()
{
    QSettings s;
    s.beginGroup(QStringLiteral("labelQueue"));
    labeling::PairQueueOptions o;
    o.hardNegativeWeight = s.value(QStringLiteral("hardNegative"), o.hardNegativeWeight).toDouble();
    o.unjudgedAsNegative = s.value(QStringLiteral("unjudgedAsNegative"), o.unjudgedAsNegative).toBool();
    o.uncertainWeight = s.value(QStringLiteral("uncertain"), o.uncertainWeight).toDouble();
    o.disagreementWeight = s.value(QStringLiteral("disagreement"), o.disagreementWeight).toDouble();
    o.randomWeight = s.value(QStringLiteral("random"), o.randomWeight).toDouble();
    o.agreementShare = s.value(QStringLiteral("agreementShare"), o.agreementShare).toDouble();
    o.seed = s.value(QStringLiteral("seed"), quint64(std::random_device{}())).toULongLong();
    return o;
}

} // namespace

LabelTab::LabelTab(ProjectContext &context, QWidget *parent)
    : QWidget(parent)
    , m_context(context)
    , m_annotator(new QLabel(this))
    , m_query(new QLabel(this))
    , m_queryImage(new QLabel(this))
    , m_left(new CandidateView(this))
    , m_right(new CandidateView(this))
    , m_progress(new QLabel(this))
    , m_status(new QLabel(this))
    , m_optionsButton(new QPushButton(tr("Queue..."), this))
    , m_options(loadOptions())
{
    setFocusPolicy(Qt::StrongFocus);
    auto *top = new QHBoxLayout;
    top->addWidget(m_annotator, 1);
    auto *change = new QPushButton(tr("Change annotator..."), this);
    change->setFocusPolicy(Qt::NoFocus);
    m_optionsButton->setFocusPolicy(Qt::NoFocus);
    top->addWidget(change);
    top->addWidget(m_optionsButton);
    connect(change, &QPushButton::clicked, this, [this] {
        bool ok = false;
        const auto name = QInputDialog::getText(this, tr("Annotator"), tr("Your name (no spaces):"), QLineEdit::Normal,
                                                m_context.annotator(), &ok);
        if (ok && !m_context.setAnnotator(name.trimmed()))
            setStatus(tr("An annotator name is 1-64 bytes without spaces."));
    });
    connect(m_optionsButton, &QPushButton::clicked, this, &LabelTab::editOptions);

    QFont big = m_query->font();
    big.setPointSizeF(big.pointSizeF() * 1.3);
    big.setBold(true);
    m_query->setFont(big);
    m_query->setWordWrap(true);
    m_query->setTextFormat(Qt::PlainText);
    m_queryImage->setMaximumHeight(160);
    auto *queryRow = new QHBoxLayout;
    queryRow->addWidget(m_queryImage);
    queryRow->addWidget(m_query, 1);

    auto *pair = new QHBoxLayout;
    pair->addWidget(m_left, 1);
    pair->addWidget(m_right, 1);
    auto *help = new QLabel(tr("Left or 1: left better    Right or 2: right better    T: tie    0: both irrelevant    "
                               "Space: skip    Ctrl+Z / Ctrl+Shift+Z: undo / redo"),
                            this);
    help->setAlignment(Qt::AlignCenter);
    m_status->setTextFormat(Qt::PlainText);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addLayout(queryRow);
    layout->addLayout(pair, 1);
    layout->addWidget(help);
    layout->addWidget(m_progress);
    layout->addWidget(m_status);

    const auto bind = [this](std::initializer_list<QKeySequence> keys, auto f) {
        auto *action = new QAction(this);
        action->setShortcuts(QList<QKeySequence>(keys));
        action->setShortcutContext(Qt::WidgetWithChildrenShortcut);
        connect(action, &QAction::triggered, this, f);
        addAction(action);
    };
    bind({QKeySequence(Qt::Key_Left), QKeySequence(Qt::Key_1)}, [this] { judge(PairOutcome::Left); });
    bind({QKeySequence(Qt::Key_Right), QKeySequence(Qt::Key_2)}, [this] { judge(PairOutcome::Right); });
    bind({QKeySequence(Qt::Key_T)}, [this] { judge(PairOutcome::Tie); });
    bind({QKeySequence(Qt::Key_0)}, [this] { judge(PairOutcome::BothIrrelevant); });
    bind({QKeySequence(Qt::Key_Space)}, [this] { skip(); });

    connect(&m_context, &ProjectContext::snapshotReady, this, &LabelTab::rebuildQueue);
    connect(&m_context, &ProjectContext::activeVersionChanged, this, &LabelTab::rebuildQueue);
    connect(&m_context, &ProjectContext::labelsChangedElsewhere, this, &LabelTab::refreshJudged);
    connect(&m_context, &ProjectContext::compareVersionChanged, this, &LabelTab::rebuildQueue);
    connect(&m_context, &ProjectContext::projectClosed, this, [this] {
        m_queue.reset();
        m_current.reset();
        m_upcoming.clear();
        m_written.clear();
        m_saving.clear();
        showPair();
    });
    connect(&m_context, &ProjectContext::annotatorChanged, this, [this] {
        updateProgress();
        if (!m_current)
            advance();
    });
    connect(&m_context, &ProjectContext::labelSaved, this,
            [this](quint64 ticket, std::int64_t, std::int64_t labelId) { onSaved(ticket, labelId); });
    connect(&m_context, &ProjectContext::labelFailed, this,
            [this](quint64 ticket, std::int64_t, const QString &message) { onFailed(ticket, message); });
    connect(&m_context, &ProjectContext::labelWaiting, this, [this](quint64 ticket) {
        if (m_saving.contains(ticket))
            setStatus(tr("Saving ... the project is in use by another process; waiting for it."));
    });
    connect(&m_context, &ProjectContext::labelUndone, this, [this](int table, std::int64_t id) {
        const auto it = m_written.find(id);
        if (table != int(storage::LabelTable::Pair) || it == m_written.end())
            return;
        if (m_current)
            m_upcoming.push_front(*m_current);
        m_current = it->second;
        --m_sessionCount;
        setStatus(tr("Undone: the pair is shown again."));
        showPair();
    });
    connect(&m_context, &ProjectContext::labelRedone, this, [this](int table, std::int64_t id) {
        const auto it = m_written.find(id);
        if (table != int(storage::LabelTable::Pair) || it == m_written.end())
            return;
        ++m_sessionCount;
        const auto &p = it->second;
        if (m_current && m_current->queryId == p.queryId && m_current->left == p.left && m_current->right == p.right) {
            m_current.reset();
            advance();
        } else {
            updateProgress();
        }
        setStatus(tr("Redone."));
    });
    updateProgress();
    showPair();
}

LabelTab::~LabelTab() = default;

QString LabelTab::statusText() const
{
    return m_status->text();
}
QString LabelTab::progressText() const
{
    return m_progress->text();
}

void LabelTab::setStatus(const QString &text)
{
    m_status->setText(text);
}

namespace {

/// On a pool thread: what a pair queue is built from, or null when the project cannot be read.
std::shared_ptr<storage::QueueInput> readQueueInput(const std::string &file, std::int64_t collection,
                                                    const storage::QueueSources &sources)
{
    try {
        auto db = storage::Database::open(file, storage::Database::Mode::ReadOnly);
        return std::make_shared<storage::QueueInput>(storage::queueInput(db, collection, sources));
    } catch (const std::exception &) {
        return nullptr;
    }
}

} // namespace

void LabelTab::rebuildQueue()
{
    m_queue.reset();
    if (!m_context.isOpen() || m_context.collectionId() == 0 || !m_context.snapshot())
        return; // snapshotReady() calls again: the pairs are shown from the snapshot
    setStatus(tr("Building the pair queue ..."));
    const auto file = m_context.project().file().string();
    m_collection = m_context.collectionId();
    const storage::QueueSources sources{m_context.activeVersion(), m_context.compareVersion()};
    const auto collection = m_collection;
    const auto generation = ++m_queueGeneration; // the newest build wins
    runThenDeliver(
        this, [file, collection, sources] { return readQueueInput(file, collection, sources); },
        [this, generation](const std::shared_ptr<storage::QueueInput> &input) {
            if (generation != m_queueGeneration)
                return;
            if (!input || !m_context.isOpen() || m_collection != m_context.collectionId()) {
                if (!input)
                    setStatus(tr("Cannot build the pair queue (see the log)."));
                return;
            }
            m_queue = std::make_unique<labeling::PairQueue>(input->queries, m_options);
            m_skippedByClaims = 0;
            ++m_claimGeneration; // a claim answer for the old queue is dropped
            for (const auto &j : input->judged)
                m_queue->markJudged(j.annotator, j.queryId, j.a, j.b);
            for (const auto &[ticket, saving] : m_saving) // written, not yet committed when the queue was read
                m_queue->markJudged(m_context.annotator().toStdString(), saving.pair.queryId, saving.pair.left,
                                    saving.pair.right);
            m_upcoming.clear();
            m_current.reset();
            setStatus(tr("Queue ready."));
            advance();
            emit queueReady();
        });
}

void LabelTab::refreshJudged()
{
    if (!m_queue || !m_context.isOpen())
        return;
    const auto file = m_context.project().file().string();
    const auto collection = m_collection;
    const storage::QueueSources sources{m_context.activeVersion(), m_context.compareVersion()};
    const auto queueGeneration = m_queueGeneration;
    const auto generation = ++m_judgedGeneration;
    runThenDeliver(
        this, [file, collection, sources] { return readQueueInput(file, collection, sources); }, // null: the next change retries
        [this, generation, queueGeneration](const std::shared_ptr<storage::QueueInput> &input) {
            if (!input || !m_queue || generation != m_judgedGeneration || queueGeneration != m_queueGeneration)
                return;
            const auto me = m_context.annotator().toStdString();
            int others = 0;
            for (const auto &j : input->judged) {
                m_queue->markJudged(j.annotator, j.queryId, j.a, j.b);
                others += j.annotator != me;
            }
            m_judgedByOthers = others;
            updateProgress();
            emit judgedRefreshed(others);
        });
}

void LabelTab::setQueueOptions(const labeling::PairQueueOptions &options)
{
    m_options = options;
    QSettings s;
    s.beginGroup(QStringLiteral("labelQueue"));
    s.setValue(QStringLiteral("hardNegative"), options.hardNegativeWeight);
    s.setValue(QStringLiteral("unjudgedAsNegative"), options.unjudgedAsNegative);
    s.setValue(QStringLiteral("uncertain"), options.uncertainWeight);
    s.setValue(QStringLiteral("disagreement"), options.disagreementWeight);
    s.setValue(QStringLiteral("random"), options.randomWeight);
    s.setValue(QStringLiteral("agreementShare"), options.agreementShare);
    rebuildQueue();
}

void LabelTab::editOptions()
{
    QDialog dialog(this);
    dialog.setWindowTitle(tr("Pair queue"));
    auto *form = new QFormLayout(&dialog);
    const auto spin = [&](double value, double max) {
        auto *s = new QDoubleSpinBox(&dialog);
        s->setRange(0, max);
        s->setSingleStep(0.05);
        s->setValue(value);
        return s;
    };
    auto *hard = spin(m_options.hardNegativeWeight, 10), *uncertain = spin(m_options.uncertainWeight, 10);
    auto *disagree = spin(m_options.disagreementWeight, 10), *random = spin(m_options.randomWeight, 10);
    auto *agreement = spin(m_options.agreementShare, 1);
    form->addRow(tr("Hard negatives (ranked above a relevant one)"), hard);
    form->addRow(tr("Uncertain (scores close together)"), uncertain);
    form->addRow(tr("Disagreements (active vs comparison version)"), disagree);
    form->addRow(tr("Random"), random);
    form->addRow(tr("Share re-served for agreement"), agreement);
    auto *unjudged =
        new QCheckBox(tr("Unjudged candidates ranked above a relevant one count as hard negatives"), &dialog);
    unjudged->setChecked(m_options.unjudgedAsNegative);
    form->addRow(unjudged);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &dialog);
    form->addRow(buttons);
    connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    if (dialog.exec() != QDialog::Accepted)
        return;
    auto o = m_options;
    o.hardNegativeWeight = hard->value();
    o.uncertainWeight = uncertain->value();
    o.disagreementWeight = disagree->value();
    o.randomWeight = random->value();
    o.agreementShare = agreement->value();
    o.unjudgedAsNegative = unjudged->isChecked();
    setQueueOptions(o);
}

void LabelTab::advance()
{
    if (!m_upcoming.empty()) {
        m_current = m_upcoming.front();
        m_upcoming.pop_front();
    } else if (m_queue && !m_context.annotator().isEmpty()) {
        auto next = m_queue->next(m_context.annotator().toStdString());
        if (next && m_context.project().onServer()) {
            claimThenShow(*next);
            return;
        }
        m_current = std::move(next);
        if (!m_current) {
            setStatus(tr("The queue is empty: you have judged every pair it can offer."));
            emit queueExhausted();
        }
    } else {
        m_current.reset();
        if (m_context.annotator().isEmpty())
            setStatus(annotatorPrompt());
    }
    // Once a name is given the prompt is no longer true.
    if (!m_context.annotator().isEmpty() && m_status->text() == annotatorPrompt())
        setStatus(QString());
    showPair();
}

void LabelTab::claimThenShow(const labeling::QueuedPair &pair)
{
    m_current.reset();
    showPair();
    setStatus(tr("Reserving the next pair ..."));
    const auto generation = ++m_claimGeneration;
    const auto file = m_context.project().file().string();
    const storage::PairClaimRequest request{std::stoll(pair.queryId), std::stoll(pair.left), std::stoll(pair.right),
                                            m_context.annotator().toStdString(),
                                            pair.reason == labeling::PairReason::Agreement};
    runThenDeliver(
        this,
        [file, request]() -> Result<storage::ClaimOutcome> {
            try {
                auto db = storage::Database::open(file, storage::Database::Mode::ReadWrite);
                return storage::claimPair(db, request);
            } catch (const std::exception &e) {
                return std::unexpected(Error{ErrorKind::Busy, e.what()});
            }
        },
        [this, generation, pair](const Result<storage::ClaimOutcome> &claimed) {
            if (generation != m_claimGeneration || !m_queue)
                return;
            if (!claimed) {
                m_current.reset();
                showPair();
                setStatus(tr("Cannot reserve a pair: %1").arg(QString::fromStdString(claimed.error().message)));
                return;
            }
            if (*claimed != storage::ClaimOutcome::Claimed) {
                // Another analyst has it or judged it: never draw it again in this session.
                m_queue->markJudged(m_context.annotator().toStdString(), pair.queryId, pair.left, pair.right);
                ++m_skippedByClaims;
                advance();
                return;
            }
            m_current = pair;
            setStatus(QString());
            showPair();
            emit pairShown();
        });
}

QString LabelTab::annotatorPrompt() const
{
    return tr("Set your annotator name to start labelling.");
}

void LabelTab::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    // The pair takes the keys as soon as the tab opens, however it was opened (click, shortcut).
    QTimer::singleShot(0, this, [this] {
        if (isVisible())
            setFocus(Qt::OtherFocusReason);
    });
}

void LabelTab::showPair()
{
    updateProgress();
    const auto snapshot = m_context.snapshot();
    if (!m_current || !snapshot) {
        m_left->clear();
        m_right->clear();
        m_query->setText(m_context.isOpen() ? tr("No pair to show.") : tr("No project open."));
        m_queryImage->clear();
        return;
    }
    const auto queryId = std::stoll(m_current->queryId);
    const auto *list = snapshot->list(queryId);
    if (!list)
        return;
    m_query->setText(QString::fromStdString(list->queryText));
    m_queryImage->clear();
    if (!list->queryImage.empty())
        m_queryImage->setPixmap(QPixmap(QString::fromStdString(list->queryImage.string())).scaledToHeight(150));
    const auto fill = [&](CandidateView *view, const std::string &id, const QString &side) {
        const auto *item = snapshot->item(queryId, std::stoll(id));
        if (!item) {
            view->clear();
            return;
        }
        view->setTitle(QStringLiteral("%1 - %2 (%3)")
                           .arg(side, QString::fromStdString(item->extId),
                                QString::fromUtf8(toString(snapshot->modalityOf(item->candidateId)).data())));
        view->show(QString::fromStdString(item->extId), QString::fromStdString(item->text),
                   QString::fromStdString(item->image.string()));
    };
    fill(m_left, m_current->left, tr("Left (Left / 1)"));
    fill(m_right, m_current->right, tr("Right (Right / 2)"));
    setFocus();
    emit pairShown();
}

bool LabelTab::judge(PairOutcome outcome)
{
    if (!m_current)
        return false;
    const auto &p = *m_current;
    storage::PairLabelWrite label{std::stoll(p.queryId), std::stoll(p.left), std::stoll(p.right),         outcome, {},
                                  PairSource::Human,     p.shownSwapped,     labeling::toString(p.reason)};
    const auto ticket = m_context.addPair(label);
    if (!ticket) {
        setStatus(tr("Not saved: %1").arg(QString::fromStdString(ticket.error().message)));
        return false;
    }
    // The next pair comes at once; the write is acknowledged by labelSaved (or labelFailed, which
    // shows this pair again).
    if (m_queue)
        m_queue->markJudged(m_context.annotator().toStdString(), p.queryId, p.left, p.right);
    m_saving[*ticket] = {p, outcome};
    ++m_sessionCount;
    setStatus(tr("Saving (%1) ...").arg(QString::fromUtf8(toString(outcome).data())));
    m_current.reset();
    advance();
    return true;
}

void LabelTab::onSaved(quint64 ticket, std::int64_t labelId)
{
    const auto it = m_saving.find(ticket);
    if (it == m_saving.end())
        return;
    m_written[labelId] = it->second.pair;
    const auto outcome = it->second.outcome;
    m_saving.erase(it);
    if (m_saving.empty() && m_status->text().startsWith(tr("Saving"))) // not over "the queue is empty"
        setStatus(tr("Saved (%1).").arg(QString::fromUtf8(toString(outcome).data())));
    emit labelWritten(labelId);
}

void LabelTab::onFailed(quint64 ticket, const QString &message)
{
    const auto it = m_saving.find(ticket);
    if (it == m_saving.end())
        return;
    // Nothing was written: the pair is shown again, so the key can be pressed again.
    if (m_current)
        m_upcoming.push_front(*m_current);
    m_current = it->second.pair;
    m_saving.erase(it);
    --m_sessionCount;
    showPair();
    setStatus(tr("Not saved: %1. The pair is shown again.").arg(message));
}

void LabelTab::skip()
{
    if (!m_current)
        return;
    // Not shown again in this session; nothing is written. On a team server the pair goes back to the team.
    if (m_queue)
        m_queue->markJudged(m_context.annotator().toStdString(), m_current->queryId, m_current->left, m_current->right);
    if (m_context.project().onServer()) {
        const auto file = m_context.project().file().string();
        const auto p = *m_current;
        const auto annotator = m_context.annotator().toStdString();
        runThenDeliver(
            this,
            [file, p, annotator]() -> bool {
                try {
                    auto db = storage::Database::open(file, storage::Database::Mode::ReadWrite);
                    return storage::releasePairClaim(db, std::stoll(p.queryId), std::stoll(p.left), std::stoll(p.right),
                                                     annotator)
                        .has_value();
                } catch (const std::exception &) {
                    return false; // the claim expires with its lease
                }
            },
            [](bool) {});
    }
    setStatus(tr("Skipped."));
    m_current.reset();
    advance();
}

void LabelTab::updateProgress()
{
    m_annotator->setText(m_context.annotator().isEmpty() ? tr("Annotator: (not set)")
                                                         : tr("Annotator: %1").arg(m_context.annotator()));
    if (!m_queue) {
        m_progress->setText(tr("This session: %1 pairs").arg(m_sessionCount));
        return;
    }
    using labeling::PairReason;
    m_progress->setText(tr("This session: %1 pairs    judged by you: %2    by the team: %7    pools: hard negatives %3, "
                           "uncertain %4, disagreements %5, random %6")
                            .arg(m_sessionCount)
                            .arg(static_cast<int>(m_queue->judgedBy(m_context.annotator().toStdString())) - m_skippedByClaims)
                            .arg(m_queue->poolSize(PairReason::HardNegative))
                            .arg(m_queue->poolSize(PairReason::Uncertain))
                            .arg(m_queue->poolSize(PairReason::Disagreement))
                            .arg(m_queue->poolSize(PairReason::Random))
                            .arg(m_judgedByOthers));
}

} // namespace unirank::ui
