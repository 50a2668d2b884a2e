// Privileges.cpp - dropping root after start: setgroups/setgid/setuid and capset(2) as raw system calls.
#include "app/Privileges.h"

#include <dirent.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

namespace dnsproxy::app
{

namespace
{

const uint32_t BIND_SERVICE = 1u << CAP_NET_BIND_SERVICE; // capability 10: first 32-bit word
const int MAX_CAPABILITY = 63;                            // PR_CAPBSET_READ says EINVAL past the kernel's last

[[noreturn]] void failWith(const std::string& what)
{
	throw PrivilegeError(what + ": " + std::strerror(errno));
}

/// libcap may not be installed; the capset(2) system call is small enough to make directly.
void getCapabilities(__user_cap_data_struct (&data)[2])
{
	__user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
	if (::syscall(SYS_capget, &header, data) != 0)
		failWith("capget");
}

void setCapabilities(__user_cap_data_struct (&data)[2])
{
	__user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
	if (::syscall(SYS_capset, &header, data) != 0)
		failWith("capset");
}

std::vector<gid_t> groupsOf(const Privileges::Account& account)
{
	int count = 32;
	std::vector<gid_t> groups(static_cast<size_t>(count));
	if (::getgrouplist(account.name.c_str(), account.gid, groups.data(), &count) < 0)
	{
		groups.resize(static_cast<size_t>(count));
		if (::getgrouplist(account.name.c_str(), account.gid, groups.data(), &count) < 0)
			count = 0;
	}
	groups.resize(static_cast<size_t>(count));
	if (groups.empty())
		groups.push_back(account.gid);
	return groups;
}

} // namespace

std::optional<Privileges::Account> Privileges::lookup(const std::string& name)
{
	if (name.empty())
		return std::nullopt;
	passwd entry{};
	passwd* found = nullptr;
	std::vector<char> buffer(16384);
	if (::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 || found == nullptr)
		return std::nullopt;
	return Account{found->pw_name, found->pw_uid, found->pw_gid};
}

std::optional<Privileges::Account> Privileges::target(const std::string& configured)
{
	if (configured.empty())
		return lookup(DEFAULT_USER);
	auto account = lookup(configured);
	if (!account)
		throw PrivilegeError("no user '" + configured + "' on this system");
	return account;
}

bool Privileges::canWriteDirectory(const Account& account, const std::string& directory)
{
	return permits(account, directory, 3); // write and search
}

bool Privileges::canReach(const Account& account, const std::string& directory)
{
	std::string path = directory;
	while (path.size() > 1 && path.back() == '/')
		path.pop_back();
	for (auto slash = path.rfind('/'); slash != std::string::npos && slash > 0; slash = path.rfind('/', slash - 1))
	{
		if (!permits(account, path.substr(0, slash), 1))
			return false;
	}
	return true;
}

bool Privileges::permits(const Account& account, const std::string& directory, unsigned wanted)
{
	struct stat st
	{
	};
	if (::stat(directory.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
		return false;
	if (account.uid == 0)
		return true;
	unsigned bits = st.st_mode & 07; // other
	if (st.st_uid == account.uid)
		bits = (st.st_mode >> 6) & 07;
	else
	{
		for (gid_t gid : groupsOf(account))
			if (gid == st.st_gid)
			{
				bits = (st.st_mode >> 3) & 07;
				break;
			}
	}
	return (bits & wanted) == wanted;
}

bool Privileges::holdsOnly(const std::string& directory, const std::string& stem)
{
	DIR* dir = ::opendir(directory.c_str());
	if (dir == nullptr || stem.empty())
	{
		if (dir)
			::closedir(dir);
		return false;
	}
	bool only = true;
	while (const dirent* entry = ::readdir(dir))
	{
		const std::string name = entry->d_name;
		if (name != "." && name != ".." && name.compare(0, stem.size(), stem) != 0)
		{
			only = false;
			break;
		}
	}
	::closedir(dir);
	return only;
}

unsigned Privileges::threadCount()
{
	std::ifstream status("/proc/self/status");
	std::string line;
	while (std::getline(status, line))
		if (line.compare(0, 8, "Threads:") == 0)
			return static_cast<unsigned>(std::stoul(line.substr(8)));
	return 0;
}

namespace
{

/// Drops every capability but CAP_NET_BIND_SERVICE from the bounding set; false when a container
/// runtime took CAP_SETPCAP already and so keeps its own bounding set.
bool narrowBoundingSet()
{
	for (int cap = 0; cap <= MAX_CAPABILITY; ++cap)
	{
		if (cap == CAP_NET_BIND_SERVICE)
			continue;
		if (::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0)
			break; // past the kernel's last capability
		if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
		{
			if (errno != EPERM)
				failWith("prctl(PR_CAPBSET_DROP)");
			return false;
		}
	}
	return true;
}

/// Becomes `account` (groups, gid, uid) keeping the permitted capabilities across setuid.
void switchUser(const Privileges::Account& account)
{
	// Groups before the gid before the uid: each step needs the privilege the next one drops.
	if (::initgroups(account.name.c_str(), account.gid) != 0)
		failWith("initgroups(" + account.name + ")");
	if (::setresgid(account.gid, account.gid, account.gid) != 0)
		failWith("setresgid(" + std::to_string(account.gid) + ")");
	// Keep the permitted set across setuid so CAP_NET_BIND_SERVICE survives; capset trims it.
	if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
		failWith("prctl(PR_SET_KEEPCAPS)");
	if (::setresuid(account.uid, account.uid, account.uid) != 0)
		failWith("setresuid(" + std::to_string(account.uid) + ")");
	if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0)
		failWith("prctl(PR_SET_KEEPCAPS)");
}

/// Leaves at most CAP_NET_BIND_SERVICE (effective and permitted) and forbids gaining more; returns
/// the capability bits kept (0 when a runtime had taken it already).
uint32_t keepOnlyBindService()
{
	__user_cap_data_struct caps[2]{};
	getCapabilities(caps);
	const uint32_t keep = caps[0].permitted & BIND_SERVICE; // a runtime may have taken it already
	caps[0] = {keep, keep, 0};                              // effective, permitted, inheritable
	caps[1] = {0, 0, 0};
	setCapabilities(caps);
	if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		failWith("prctl(PR_SET_NO_NEW_PRIVS)");
	return keep;
}

} // namespace

std::string Privileges::drop(const std::optional<Account>& account)
{
	if (::geteuid() != 0)
		throw PrivilegeError("not started as root: nothing to drop");
	const unsigned threads = threadCount();
	if (threads != 1)
		throw PrivilegeError("cannot drop privileges with " + std::to_string(threads) +
							 " threads running (capabilities are per thread)");

	// The bounding set first: dropping from it needs CAP_SETPCAP, which goes below.
	const bool boundingNarrowed = narrowBoundingSet();
	(void)::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); // EINVAL before Linux 4.3: none to clear
	const bool switching = account && account->uid != 0;
	if (switching)
		switchUser(*account);
	const uint32_t keep = keepOnlyBindService();

	// Check the result rather than trust it: the way back to root must be closed.
	if (switching &&
		(::setuid(0) == 0 || ::getuid() != account->uid || ::geteuid() != account->uid || ::getegid() != account->gid))
		throw PrivilegeError("still able to regain root after switching to " + account->name);

	std::string line = switching ? "running as user " + account->name + " (uid " + std::to_string(account->uid) +
									   ", gid " + std::to_string(account->gid) + ")"
								 : std::string("running as root");
	line += keep ? " with only CAP_NET_BIND_SERVICE" : " with no capabilities";
	if (!boundingNarrowed)
		line += " (bounding set left to the container runtime)";
	return line;
}

} // namespace dnsproxy::app
