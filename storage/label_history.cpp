// SPDX-License-Identifier: GPL-3.0-or-later
#include "storage/label_history.h"

namespace unirank::storage {

LabelHistory::LabelHistory(LabelWriter &writer) : m_writer(writer) {}

Result<std::int64_t> LabelHistory::addGraded(GradedLabelWrite label)
{
    const auto text = "graded label " + std::to_string(label.grade);
    auto id = m_writer.addGraded(std::move(label)).get();
    if (id) {
        m_commands.resize(m_index);
        m_commands.push_back({LabelTable::Graded, *id, text});
        ++m_index;
    }
    return id;
}

Result<std::int64_t> LabelHistory::addPair(PairLabelWrite label)
{
    const auto text = "pair label (" + std::string(toString(label.outcome)) + ")";
    auto id = m_writer.addPair(std::move(label)).get();
    if (id) {
        m_commands.resize(m_index);
        m_commands.push_back({LabelTable::Pair, *id, text});
        ++m_index;
    }
    return id;
}

Result<void> LabelHistory::setRetracted(const Command &c, bool retracted)
{
    auto done = m_writer.setRetracted(c.table, c.labelId, retracted).get();
    if (!done)
        return std::unexpected(done.error());
    return {};
}

Result<void> LabelHistory::undo()
{
    if (!canUndo())
        return std::unexpected(Error{ErrorKind::BadInput, "nothing to undo"});
    auto r = setRetracted(m_commands[m_index - 1], true);
    if (r)
        --m_index;
    return r;
}

Result<void> LabelHistory::redo()
{
    if (!canRedo())
        return std::unexpected(Error{ErrorKind::BadInput, "nothing to redo"});
    auto r = setRetracted(m_commands[m_index], false);
    if (r)
        ++m_index;
    return r;
}

std::string LabelHistory::undoText() const
{
    return canUndo() ? m_commands[m_index - 1].text : std::string();
}

std::string LabelHistory::redoText() const
{
    return canRedo() ? m_commands[m_index].text : std::string();
}

std::optional<LabelHistory::LabelRef> LabelHistory::undoTarget() const
{
    if (!canUndo())
        return std::nullopt;
    return LabelRef{m_commands[m_index - 1].table, m_commands[m_index - 1].labelId};
}

std::optional<LabelHistory::LabelRef> LabelHistory::redoTarget() const
{
    if (!canRedo())
        return std::nullopt;
    return LabelRef{m_commands[m_index].table, m_commands[m_index].labelId};
}

} // namespace unirank::storage
