//===- SourceManager.cpp --------------------------------------------------===//
#include "lace/Frontend/SourceManager.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

namespace lace::frontend {

SourceRange SourceRange::cover(SourceRange a, SourceRange b) {
  if (!a.valid())
    return b;
  if (!b.valid() || a.file != b.file)
    return a;
  return {a.file, std::min(a.begin, b.begin), std::max(a.end, b.end)};
}

std::optional<std::string> DiskFileProvider::read(const std::string &path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec) || ec)
    return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad())
    return std::nullopt;
  return ss.str();
}

void MemoryFileProvider::add(const std::string &path, std::string contents) {
  files_[SourceManager::normalize(path)] = std::move(contents);
}

std::optional<std::string> MemoryFileProvider::read(const std::string &path) {
  auto it = files_.find(SourceManager::normalize(path));
  if (it == files_.end())
    return std::nullopt;
  return it->second;
}

std::string SourceManager::normalize(const std::string &path) {
  if (path.empty())
    return path;
  std::string out =
      std::filesystem::path(path).lexically_normal().generic_string();
  return out.empty() ? std::string(".") : out;
}

std::string SourceManager::resolveImport(std::string_view importer,
                                         std::string_view imported) {
  std::filesystem::path target{std::string(imported)};
  if (target.is_absolute())
    return normalize(target.generic_string());
  std::filesystem::path base =
      std::filesystem::path(std::string(importer)).parent_path();
  return normalize((base / target).generic_string());
}

FileId SourceManager::add(std::string path, std::string contents) {
  auto file = std::make_unique<File>();
  file->path = std::move(path);
  file->contents = std::move(contents);
  file->lineStarts.push_back(0);
  const std::string &text = file->contents;
  for (std::size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n')
      file->lineStarts.push_back(static_cast<std::uint32_t>(i + 1));
  files_.push_back(std::move(file));
  return static_cast<FileId>(files_.size() - 1);
}

std::optional<FileId> SourceManager::load(const std::string &rawPath) {
  std::string path = normalize(rawPath);
  if (auto it = byPath_.find(path); it != byPath_.end())
    return it->second;
  std::optional<std::string> text = provider_.read(path);
  if (!text || text->size() > kMaxFileSize)
    return std::nullopt;
  FileId id = add(path, std::move(*text));
  byPath_[path] = id;
  return id;
}

FileId SourceManager::addBuffer(std::string name, std::string contents) {
  if (contents.size() > kMaxFileSize)
    contents.resize(kMaxFileSize);
  return add(std::move(name), std::move(contents));
}

std::optional<FileId> SourceManager::find(const std::string &path) const {
  auto it = byPath_.find(normalize(path));
  if (it == byPath_.end())
    return std::nullopt;
  return it->second;
}

LineColumn SourceManager::lineColumn(FileId id, std::uint32_t offset) const {
  const File &file = *files_[id];
  auto it =
      std::upper_bound(file.lineStarts.begin(), file.lineStarts.end(), offset);
  std::size_t line = static_cast<std::size_t>(it - file.lineStarts.begin());
  std::uint32_t start = file.lineStarts[line - 1];
  return {static_cast<std::uint32_t>(line), offset - start + 1};
}

std::string_view SourceManager::lineText(FileId id, std::uint32_t line) const {
  const File &file = *files_[id];
  if (line == 0 || line > file.lineStarts.size())
    return {};
  std::uint32_t start = file.lineStarts[line - 1];
  std::uint32_t end = line < file.lineStarts.size()
                          ? file.lineStarts[line] - 1
                          : static_cast<std::uint32_t>(file.contents.size());
  std::string_view text(file.contents);
  std::string_view result = text.substr(start, end - start);
  if (!result.empty() && result.back() == '\r')
    result.remove_suffix(1);
  return result;
}

std::string_view SourceManager::text(SourceRange range) const {
  if (!range.valid())
    return {};
  std::string_view all(files_[range.file]->contents);
  if (range.begin > all.size() || range.end < range.begin)
    return {};
  return all.substr(range.begin, range.end - range.begin);
}

} // namespace lace::frontend
