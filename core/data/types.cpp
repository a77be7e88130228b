// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/data/types.h"

namespace unirank {

std::string_view toString(Modality m)
{
    switch (m) {
    case Modality::Text: return "text";
    case Modality::Image: return "image";
    case Modality::TextImage: return "text+image";
    }
    return "text";
}

std::optional<Modality> modalityFromString(std::string_view s)
{
    if (s == "text")
        return Modality::Text;
    if (s == "image")
        return Modality::Image;
    if (s == "text+image")
        return Modality::TextImage;
    return std::nullopt;
}

std::string_view toString(PairOutcome o)
{
    switch (o) {
    case PairOutcome::Left: return "left";
    case PairOutcome::Right: return "right";
    case PairOutcome::Tie: return "tie";
    case PairOutcome::BothIrrelevant: return "both-irrelevant";
    }
    return "tie";
}

std::optional<PairOutcome> pairOutcomeFromString(std::string_view s)
{
    if (s == "left")
        return PairOutcome::Left;
    if (s == "right")
        return PairOutcome::Right;
    if (s == "tie")
        return PairOutcome::Tie;
    if (s == "both-irrelevant")
        return PairOutcome::BothIrrelevant;
    return std::nullopt;
}

std::string_view toString(PairSource s)
{
    switch (s) {
    case PairSource::Human: return "human";
    case PairSource::Derived: return "derived";
    case PairSource::Mined: return "mined";
    }
    return "human";
}

std::optional<PairSource> pairSourceFromString(std::string_view s)
{
    if (s == "human")
        return PairSource::Human;
    if (s == "derived")
        return PairSource::Derived;
    if (s == "mined")
        return PairSource::Mined;
    return std::nullopt;
}

} // namespace unirank
