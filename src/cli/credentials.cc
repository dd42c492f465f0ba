// `lambent credentials [--data DIR] [--profile NAME]`: the local server's root credentials, as
// `export` lines for a shell, or written as an aws CLI profile. Reads the sealed root
// credentials file with the node key, so only the user who runs the server can.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/client.h"
#include "cli/verbs.h"

namespace lambent::cli {
namespace fs = std::filesystem;
namespace {

// Sets `key = value` in section `section` of an INI file (the aws CLI's credentials and config
// files), keeping everything else; the file is created 0600 when absent.
void set_ini(const fs::path& file, const std::string& section,
             const std::vector<std::pair<std::string, std::string>>& values) {
  std::vector<std::string> lines;
  {
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  const std::string header = "[" + section + "]";
  size_t start = lines.size();
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i] == header) start = i;
  }
  if (start == lines.size()) {
    if (!lines.empty() && !lines.back().empty()) lines.emplace_back();
    lines.push_back(header);
  }
  size_t end = start + 1;
  while (end < lines.size() && !(lines[end].size() > 1 && lines[end][0] == '[')) ++end;
  for (const auto& [k, v] : values) {
    bool done = false;
    for (size_t i = start + 1; i < end; ++i) {
      std::string_view l = lines[i];
      if (l.starts_with(k) && l.substr(k.size()).find_first_not_of(' ') != std::string_view::npos &&
          l.substr(k.size())[l.substr(k.size()).find_first_not_of(' ')] == '=') {
        lines[i] = k + " = " + v;
        done = true;
      }
    }
    if (!done) {
      lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(end), k + " = " + v);
      ++end;
    }
  }
  fs::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::trunc);
  for (const auto& l : lines) out << l << "\n";
  out.close();
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
  if (!out) throw Failure("cannot write " + file.string());
}

}  // namespace

Runner add_credentials(CLI::App& app) {
  struct Options {
    std::string data, profile;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "credentials", "Print the local server's root credentials (or write an aws CLI profile)");
  cmd->add_option("--data", o->data,
                  "the server's data directory (default $LAMBENT_DATA, else the server's default)");
  cmd->add_option("--profile", o->profile,
                  "write them as this aws CLI profile (~/.aws/credentials and ~/.aws/config) "
                  "instead of printing them");
  return [o]() {
    return guarded([&] {
      // Only the data directory's root key: not whatever AWS_* the shell has.
      for (const char* var : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}) {
        ::unsetenv(var);
      }
      Common common;
      common.data = o->data;
      auto creds = find_credentials(common);
      if (!creds) {
        throw Failure(
            "no readable root credentials: run this as the user who runs `lambent serve`, with "
            "--data pointing at its data directory, after the server has started once.");
      }
      const std::string region = signing_region();
      if (o->profile.empty()) {
        std::printf(
            "export AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=%s\n"
            "export AWS_DEFAULT_REGION=%s\n",
            creds->access_key_id.c_str(), creds->secret_access_key.c_str(), region.c_str());
        return 0;
      }
      const char* home = std::getenv("HOME");
      if (!home || !*home) throw Failure("HOME is not set: cannot find ~/.aws");
      const fs::path aws = fs::path(home) / ".aws";
      set_ini(aws / "credentials", o->profile,
              {{"aws_access_key_id", creds->access_key_id},
               {"aws_secret_access_key", creds->secret_access_key}});
      set_ini(aws / "config", o->profile == "default" ? "default" : "profile " + o->profile,
              {{"region", region}});
      std::printf("wrote the profile %s: use `aws --profile %s --endpoint-url <server> ...`\n",
                  o->profile.c_str(), o->profile.c_str());
      return 0;
    });
  };
}

}  // namespace lambent::cli
