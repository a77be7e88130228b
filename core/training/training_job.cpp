// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/training/training_job.h"

#include <pthread.h>

namespace unirank::training {

void nameThisThread(const char *name) { pthread_setname_np(pthread_self(), name); }

} // namespace unirank::training
