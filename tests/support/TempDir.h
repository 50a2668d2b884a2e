// TempDir.h - a private temporary folder for one test, removed with everything in it.
#pragma once

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <stdlib.h>

namespace dnsproxy::test
{

/// mkdtemp() under /tmp (mode 0700); the destructor removes the tree.
class TempDir
{
public:
	TempDir()
	{
		std::string pattern = "/tmp/dnsproxy-test-XXXXXX";
		std::vector<char> name(pattern.begin(), pattern.end());
		name.push_back('\0');
		if (!::mkdtemp(name.data()))
			throw std::runtime_error("mkdtemp failed");
		_path = name.data();
	}
	~TempDir()
	{
		std::error_code ignored;
		std::filesystem::remove_all(_path, ignored);
	}
	TempDir(const TempDir&) = delete;
	TempDir& operator=(const TempDir&) = delete;

	const std::string& path() const
	{
		return _path;
	}
	/// `name` inside the folder.
	std::string file(const std::string& name) const
	{
		return _path + "/" + name;
	}
	/// Writes `content` to `name` in place (truncating it), returns the full path.
	std::string write(const std::string& name, const std::string& content) const
	{
		std::ofstream(file(name), std::ios::binary | std::ios::trunc) << content;
		return file(name);
	}
	/// Writes `content` beside `name` and renames it over `name` (a new inode, as certbot and
	/// editors do), returns the full path.
	std::string replace(const std::string& name, const std::string& content) const
	{
		write(name + ".new", content);
		std::filesystem::rename(file(name + ".new"), file(name));
		return file(name);
	}

private:
	std::string _path;
};

/// The whole content of a file ("" when unreadable).
inline std::string readWholeFile(const std::string& path)
{
	std::ifstream in(path, std::ios::binary);
	return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

} // namespace dnsproxy::test
