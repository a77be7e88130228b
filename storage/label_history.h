// SPDX-License-Identifier: GPL-3.0-or-later
// User label edits as undoable commands (Okular-style, no widgets): every label an annotator gives
// goes through a LabelHistory, which writes it with the LabelWriter and keeps an undo stack. Undo
// retracts the label (labels are never deleted), redo restores it; a new label clears the redo part,
// as in any editor. The GUI binds Ctrl+Z / Ctrl+Shift+Z to undo()/redo() and can show undoText().
//
// Threading: one LabelHistory per session, used from one thread (the GUI thread); each call waits for
// the writer's commit (sub-millisecond on a local disk, see `bench storage`).
// Errors: Result values from the writer (BadInput for an unknown candidate, Busy, Internal); a failed
// write leaves the stack unchanged.
#pragma once

#include "storage/label_writer.h"

#include <optional>
#include <string>
#include <vector>

namespace unirank::storage {

class LabelHistory {
public:
    explicit LabelHistory(LabelWriter &writer);

    Result<std::int64_t> addGraded(GradedLabelWrite label);
    Result<std::int64_t> addPair(PairLabelWrite label);

    bool canUndo() const { return m_index > 0; }
    bool canRedo() const { return m_index < m_commands.size(); }
    Result<void> undo();
    Result<void> redo();
    std::string undoText() const; ///< e.g. "pair label (left)"; empty when nothing to undo
    std::string redoText() const;

    struct LabelRef {
        LabelTable table = LabelTable::Graded;
        std::int64_t labelId = 0;
    };
    /// The label undo() would retract / redo() would restore, so a view can show that item again.
    std::optional<LabelRef> undoTarget() const;
    std::optional<LabelRef> redoTarget() const;
    std::size_t size() const { return m_commands.size(); }

private:
    struct Command {
        LabelTable table;
        std::int64_t labelId;
        std::string text;
    };
    Result<void> setRetracted(const Command &c, bool retracted);

    LabelWriter &m_writer;
    std::vector<Command> m_commands;
    std::size_t m_index = 0; ///< commands [0, m_index) are done
};

} // namespace unirank::storage
