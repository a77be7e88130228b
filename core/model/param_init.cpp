// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/model/param_init.h"

namespace unirank::model {
namespace {
thread_local bool tSkip = false;
} // namespace

SkipParameterInit::SkipParameterInit() : m_previous(tSkip)
{
    tSkip = true;
}

SkipParameterInit::~SkipParameterInit()
{
    tSkip = m_previous;
}

bool SkipParameterInit::active()
{
    return tSkip;
}

} // namespace unirank::model
