// SPDX-License-Identifier: GPL-3.0-or-later
// Test helper for tests/storage/test_crash_safety: writes labels through a LabelWriter from several
// threads, forever, and prints "ack <label id> <kind> <query> <left> <right> <value>" on stdout each time
// a write has returned. The test kills it with SIGKILL at a random moment.
//
// usage: label_writer_child PROJECT QUERY_ID CANDIDATE_ID_1 CANDIDATE_ID_2 ... (at least two candidates)
#include "storage/label_writer.h"

#include <cstdio>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

using namespace unirank;
using namespace unirank::storage;

int main(int argc, char **argv)
{
    if (argc < 5) {
        std::fprintf(stderr, "usage: %s PROJECT QUERY_ID CAND_ID CAND_ID...\n", argv[0]);
        return 2;
    }
    const std::int64_t query = std::atoll(argv[2]);
    std::vector<std::int64_t> candidates;
    for (int i = 3; i < argc; ++i)
        candidates.push_back(std::atoll(argv[i]));

    LabelWriter writer(argv[1]);
    std::mutex out;
    std::vector<std::thread> producers;
    for (int t = 0; t < 4; ++t) {
        producers.emplace_back([&, t] {
            std::mt19937 rng(static_cast<unsigned>(t * 7919 + 1));
            std::uniform_int_distribution<std::size_t> pick(0, candidates.size() - 1);
            for (;;) {
                const auto a = candidates[pick(rng)];
                auto b = candidates[pick(rng)];
                while (b == a)
                    b = candidates[pick(rng)];
                const bool graded = rng() % 2 == 0;
                const int value = static_cast<int>(rng() % 4);
                const auto annotator = "annotator" + std::to_string(t);
                const auto r = graded ? writer.addGraded({query, a, value, annotator}).get()
                                      : writer.addPair({query, a, b, static_cast<PairOutcome>(value), annotator,
                                                        PairSource::Human, false, ""})
                                            .get();
                if (!r) {
                    std::fprintf(stderr, "write failed: %s\n", r.error().message.c_str());
                    std::_Exit(3);
                }
                std::lock_guard lock(out);
                std::printf("ack %lld %s %lld %lld %lld %d\n", static_cast<long long>(*r), graded ? "g" : "p",
                            static_cast<long long>(query), static_cast<long long>(a), static_cast<long long>(b), value);
                std::fflush(stdout);
            }
        });
    }
    for (auto &p : producers)
        p.join();
}
