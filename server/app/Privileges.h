// Privileges.h - what a root-started dnsproxy keeps: another user's identity and CAP_NET_BIND_SERVICE only.
#pragma once

#include <sys/types.h>

#include <optional>
#include <stdexcept>
#include <string>

namespace dnsproxy::app
{

/// The drop failed (a system call refused, or the process already had several threads); the app
/// exits 2 naming the user setting.
class PrivilegeError: public std::runtime_error
{
public:
	using std::runtime_error::runtime_error;
};

/// Least privilege for a proxy started as root (SPEC sections 3 and 6; unbound's `username:`).
///
/// A root-started proxy needs root for three things only: opening its database wherever the
/// configuration says, reading the CA bundle, and binding ports below 1024. After the first two,
/// drop() switches to the configured user (default: the account `dnsproxy` when it exists) with its
/// groups, or, with no such account or root configured, stays uid 0. Either way the process keeps
/// one capability, CAP_NET_BIND_SERVICE (effective and permitted; every other capability leaves
/// the bounding set too, and no_new_privs is set), which is what systemd's
/// `AmbientCapabilities=CAP_NET_BIND_SERVICE` or the image's file capability give: the listeners
/// bind port 53 after the drop. A proxy started by another user has nothing to drop.
///
/// Threading: drop() must run while the process has one thread. capset(2) and the bounding set
/// change only the calling thread, and every thread created afterwards inherits them, so the
/// app calls it before the fleet, the upstream pool, the front end and the admin server start
/// their threads; drop() checks /proc/self/status and refuses otherwise.
class Privileges
{
public:
	static constexpr const char* DEFAULT_USER = "dnsproxy";

	struct Account
	{
		std::string name;
		uid_t uid = 0;
		gid_t gid = 0;
	};

	/// The account called `name`; std::nullopt when there is none.
	static std::optional<Account> lookup(const std::string& name);

	/// The account a root-started proxy switches to: `configured` (empty = DEFAULT_USER if it
	/// exists, else none). Throws PrivilegeError when a configured name does not exist.
	static std::optional<Account> target(const std::string& configured);

	/// True when `account` may create and delete files in `directory` (mode bits of the folder
	/// against the account's uid, primary group and supplementary groups; ACLs are not read).
	static bool canWriteDirectory(const Account& account, const std::string& directory);

	/// True when `account` may search every folder above `directory` (so a folder given to it is usable).
	static bool canReach(const Account& account, const std::string& directory);

	/// True when every entry of `directory` starts with `stem` (the database file's name without its
	/// extension): a folder that holds only the database's files is ours to hand over.
	static bool holdsOnly(const std::string& directory, const std::string& stem);

	/// Switches to `account` (none or uid 0: stays root) keeping only CAP_NET_BIND_SERVICE, and
	/// returns one line saying what it did. Only when the effective uid is 0. Throws PrivilegeError.
	static std::string drop(const std::optional<Account>& account);

	/// Whether the folder's mode bits give `account` the rwx bits in `wanted` (2 = write, 1 = search).
	static bool permits(const Account& account, const std::string& directory, unsigned wanted);

	/// Threads of this process now (the Threads: line of /proc/self/status); 0 when unreadable.
	static unsigned threadCount();
};

} // namespace dnsproxy::app
