// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/formats/beir.h"

#include "core/formats/line_reader.h"
#include "core/formats/trec.h"
#include "core/util/atomic_file.h"
#include "core/util/json_text.h"
#include "core/util/sha256.h"

#include <unordered_map>
#include <unordered_set>

namespace fs = std::filesystem;
using nlohmann::json;

namespace unirank {
namespace {

json parseJsonLine(std::string_view line, const SourceLocation &where)
{
    json j = parseJsonText(line, where);
    if (!j.is_object())
        throw InputError(where, "expected a JSON object");
    return j;
}

std::optional<std::string> optionalString(const json &obj, const char *key, SourceLocation where)
{
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null())
        return std::nullopt;
    where.field = key;
    if (!it->is_string())
        throw InputError(where, "expected a string");
    return it->get<std::string>();
}

std::string requiredId(const json &obj, SourceLocation where)
{
    where.field = "_id";
    const auto it = obj.find("_id");
    if (it == obj.end())
        throw InputError(where, "missing");
    std::string id;
    if (it->is_string())
        id = it->get<std::string>();
    else if (it->is_number_integer())
        id = std::to_string(it->get<std::int64_t>()); // BEIR files sometimes use numeric ids
    else
        throw InputError(where, "expected a string");
    checkExternalId(id, where);
    return id;
}

json extraFields(const json &obj, std::initializer_list<const char *> known)
{
    json extra = json::object();
    for (auto it = obj.begin(); it != obj.end(); ++it) {
        bool isKnown = false;
        for (const char *k : known)
            isKnown = isKnown || it.key() == k;
        if (!isKnown)
            extra[it.key()] = it.value();
    }
    return extra;
}

template <typename T>
void rejectDuplicate(std::unordered_map<std::string, std::int64_t> &seen, const T &item, const SourceLocation &where)
{
    const auto [it, inserted] = seen.emplace(item.id, where.line);
    if (!inserted)
        throw InputError(SourceLocation{where.file, where.line, "_id"},
                         "duplicate id '" + item.id + "' (first on line " + std::to_string(it->second) + ")");
}

struct Reader {
    fs::path root;
    const BeirReadOptions &options;
    BeirDataset out;
    std::unordered_map<std::string, std::int64_t> queryLines, candidateLines;
    std::vector<std::pair<std::string, SourceLocation>> imageRefs; // relative path, where referenced

    void readCorpus()
    {
        const auto path = root / "corpus.jsonl";
        forEachLine(path, [&](std::string_view line, std::int64_t lineNo) {
            if (splitWhitespace(line).empty())
                return;
            const SourceLocation where{"corpus.jsonl", lineNo};
            const json obj = parseJsonLine(line, where);
            Candidate c;
            c.id = requiredId(obj, where);
            c.title = optionalString(obj, "title", where).value_or("");
            c.text = optionalString(obj, "text", where).value_or("");
            c.imagePath = optionalString(obj, "image", where).value_or("");
            const auto modality = optionalString(obj, "modality", where);
            if (modality) {
                const auto m = modalityFromString(*modality);
                if (!m)
                    throw InputError(SourceLocation{where.file, lineNo, "modality"},
                                     "'" + *modality + "' is not one of text, image, text+image");
                c.modality = *m;
            } else {
                const bool hasText = !c.text.empty() || !c.title.empty();
                c.modality = !c.imagePath.empty() ? (hasText ? Modality::TextImage : Modality::Image) : Modality::Text;
            }
            const bool hasText = !c.text.empty() || !c.title.empty();
            if ((c.modality == Modality::Text || c.modality == Modality::TextImage) && !hasText)
                throw InputError(SourceLocation{where.file, lineNo, "text"},
                                 "a " + std::string(toString(c.modality)) + " candidate needs a title or text");
            if ((c.modality == Modality::Image || c.modality == Modality::TextImage) && c.imagePath.empty())
                throw InputError(SourceLocation{where.file, lineNo, "image"},
                                 "an " + std::string(toString(c.modality)) + " candidate needs an image path");
            if (c.modality == Modality::Text && !c.imagePath.empty())
                throw InputError(SourceLocation{where.file, lineNo, "image"},
                                 "a text candidate must not have an image (use modality text+image)");
            if (!c.imagePath.empty())
                imageRefs.emplace_back(c.imagePath, SourceLocation{where.file, lineNo, "image"});
            c.metadata = extraFields(obj, {"_id", "title", "text", "image", "modality"});
            rejectDuplicate(candidateLines, c, where);
            out.candidates.push_back(std::move(c));
        });
        if (out.candidates.empty())
            throw InputError(SourceLocation{"corpus.jsonl"}, "no candidates");
    }

    void readQueries()
    {
        const auto path = root / "queries.jsonl";
        forEachLine(path, [&](std::string_view line, std::int64_t lineNo) {
            if (splitWhitespace(line).empty())
                return;
            const SourceLocation where{"queries.jsonl", lineNo};
            const json obj = parseJsonLine(line, where);
            Query q;
            q.id = requiredId(obj, where);
            const auto text = optionalString(obj, "text", where);
            q.imagePath = optionalString(obj, "image", where).value_or("");
            if ((!text || text->empty()) && q.imagePath.empty())
                throw InputError(SourceLocation{where.file, lineNo, "text"}, "a query needs text or an image");
            q.text = text.value_or("");
            if (!q.imagePath.empty())
                imageRefs.emplace_back(q.imagePath, SourceLocation{where.file, lineNo, "image"});
            q.metadata = extraFields(obj, {"_id", "text", "image"});
            rejectDuplicate(queryLines, q, where);
            out.queries.push_back(std::move(q));
        });
        if (out.queries.empty())
            throw InputError(SourceLocation{"queries.jsonl"}, "no queries");
    }

    void checkIdsKnown(const std::string &file, std::int64_t line, const std::string &qid, const std::string &did,
                       const char *qField, const char *dField)
    {
        if (!queryLines.contains(qid))
            throw InputError(SourceLocation{file, line, qField}, "unknown query id '" + qid + "'");
        if (!candidateLines.contains(did))
            throw InputError(SourceLocation{file, line, dField}, "unknown corpus id '" + did + "'");
    }

    void readQrelsAndRun()
    {
        const auto qrelsPath = root / "qrels.tsv";
        if (!fs::exists(qrelsPath))
            throw InputError(SourceLocation{"qrels.tsv"}, "missing (BEIR qrels with header 'query-id corpus-id score')");
        out.qrels = readQrels(qrelsPath);
        for (const auto &q : out.qrels)
            checkIdsKnown("qrels.tsv", q.line, q.queryId, q.docId, "query-id", "corpus-id");

        const auto runPath = root / "run.trec";
        if (fs::exists(runPath)) {
            auto run = readRun(runPath);
            for (const auto &e : run)
                checkIdsKnown("run.trec", e.line, e.queryId, e.docId, "qid", "docid");
            if (!run.empty())
                out.runTag = run.front().tag;
            out.run = std::move(run);
        }
    }

    void checkImages()
    {
        // First reference of each path, in file order (its location is what an error names).
        std::vector<std::pair<std::string, SourceLocation>> unique;
        std::unordered_set<std::string> seen;
        for (const auto &[rel, where] : imageRefs)
            if (seen.insert(rel).second)
                unique.emplace_back(rel, where);
        std::size_t done = 0;
        for (const auto &[rel, where] : unique) {
            DatasetImage img;
            img.absolutePath = resolveInsideFolder(root, rel, where);
            std::error_code ec;
            if (!fs::exists(img.absolutePath, ec))
                throw InputError(where, "image file '" + rel + "' does not exist");
            if (!fs::is_regular_file(img.absolutePath, ec))
                throw InputError(where, "image file '" + rel + "' is not a regular file");
            const std::string bytes = readWholeFile(img.absolutePath);
            std::string why;
            const auto info = probeImage(bytes, options.imageLimits, &why);
            if (!info)
                throw InputError(where, "image '" + rel + "': " + why);
            img.info = *info;
            img.bytes = bytes.size();
            img.sha256 = sha256Hex(bytes);
            out.images.emplace(rel, std::move(img));
            if (options.onImageProgress)
                options.onImageProgress(++done, unique.size());
        }
    }
};

} // namespace

void checkExternalId(const std::string &id, const SourceLocation &where)
{
    if (id.empty())
        throw InputError(where, "id is empty");
    if (id.size() > 256)
        throw InputError(where, "id is longer than 256 bytes");
    for (const unsigned char c : id)
        if (c <= 0x20 || c == 0x7F)
            throw InputError(where, "id '" + id + "' contains whitespace or a control character");
}

fs::path resolveInsideFolder(const fs::path &root, const std::string &relative, const SourceLocation &where)
{
    const fs::path rel(relative);
    if (relative.empty())
        throw InputError(where, "empty path");
    if (rel.is_absolute() || rel.has_root_name() || rel.has_root_directory())
        throw InputError(where, "path '" + relative + "' is absolute; paths must be relative to the dataset folder");
    for (const auto &part : rel)
        if (part == "..")
            throw InputError(where, "path '" + relative + "' leaves the dataset folder ('..')");
    std::error_code ec;
    const fs::path canonicalRoot = fs::weakly_canonical(root, ec);
    const fs::path resolved = fs::weakly_canonical(root / rel, ec);
    if (ec)
        throw InputError(where, "cannot resolve path '" + relative + "': " + ec.message());
    const auto mismatch = std::mismatch(canonicalRoot.begin(), canonicalRoot.end(), resolved.begin(), resolved.end());
    if (mismatch.first != canonicalRoot.end())
        throw InputError(where, "path '" + relative + "' resolves outside the dataset folder (symlink)");
    return resolved;
}

BeirDataset readBeirFolder(const fs::path &dir, const BeirReadOptions &options)
{
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        throw InputError(SourceLocation{dir.string()}, "not a folder");
    Reader r{dir, options, {}, {}, {}, {}};
    r.out.root = dir;
    for (const char *required : {"corpus.jsonl", "queries.jsonl"})
        if (!fs::exists(dir / required))
            throw InputError(SourceLocation{required}, "missing in dataset folder '" + dir.string() + "'");
    r.readCorpus();
    r.readQueries();
    r.readQrelsAndRun();
    r.checkImages();
    return std::move(r.out);
}

void writeBeirFolder(const fs::path &dir, const BeirDataset &data,
                     const std::function<void(const std::string &, const fs::path &)> &copyImage)
{
    replaceDirectoryAtomically(dir, [&](const fs::path &staging) {
        std::string corpus;
        for (const auto &c : data.candidates) {
            nlohmann::ordered_json j;
            j["_id"] = c.id;
            if (!c.title.empty())
                j["title"] = c.title;
            if (!c.text.empty())
                j["text"] = c.text;
            if (!c.imagePath.empty())
                j["image"] = c.imagePath;
            j["modality"] = toString(c.modality);
            for (auto it = c.metadata.begin(); it != c.metadata.end(); ++it)
                j[it.key()] = it.value();
            corpus += j.dump() + "\n";
        }
        writeFileAtomically(staging / "corpus.jsonl", corpus);

        std::string queries;
        for (const auto &q : data.queries) {
            nlohmann::ordered_json j;
            j["_id"] = q.id;
            j["text"] = q.text;
            if (!q.imagePath.empty())
                j["image"] = q.imagePath;
            for (auto it = q.metadata.begin(); it != q.metadata.end(); ++it)
                j[it.key()] = it.value();
            queries += j.dump() + "\n";
        }
        writeFileAtomically(staging / "queries.jsonl", queries);
        writeBeirQrels(staging / "qrels.tsv", data.qrels);
        if (data.run)
            writeRun(staging / "run.trec", *data.run, data.runTag.empty() ? "unirank" : data.runTag);

        std::unordered_set<std::string> written;
        const auto exportImage = [&](const std::string &rel) {
            if (rel.empty() || !written.insert(rel).second)
                return;
            const auto dest = resolveInsideFolder(staging, rel, SourceLocation{"export", 0, "image"});
            fs::create_directories(dest.parent_path());
            copyImage(rel, dest);
        };
        for (const auto &c : data.candidates)
            exportImage(c.imagePath);
        for (const auto &q : data.queries)
            exportImage(q.imagePath);
        syncFileSystem(staging); // images may be written with Sync::Deferred
    });
}

} // namespace unirank
