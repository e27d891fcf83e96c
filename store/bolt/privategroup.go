//go:build unix

package bolt

import (
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
)

// systemAccounts is where privateGroup reads the system's users and groups.
func systemAccounts() fs.FS { return os.DirFS("/etc") }

// privateGroup reports whether group gid is the private group of user uid,
// going by the passwd and group files in etc (an /etc): a group named as
// the user, with no member but the user, neither listed in the group file
// nor by having it as primary group in the passwd file. Debian, Ubuntu and
// Fedora give each user such a group, and a umask of 002, so that a file the
// user creates, or git checks out, is writable by the group; when only its
// owner is in that group, that lets no one do more than the owner can.
//
// name is the group's name (its number if the group file lacks it); when
// the group is not private, why says so, for a message that goes on from
// "its group NAME".
func privateGroup(etc fs.FS, uid, gid uint32) (name, why string, err error) {
	name = strconv.FormatUint(uint64(gid), 10)
	passwd, err := fs.ReadFile(etc, "passwd")
	if err != nil {
		return name, "", err
	}
	group, err := fs.ReadFile(etc, "group")
	if err != nil {
		return name, "", err
	}
	name, why = privateGroupRule(string(passwd), string(group), uid, gid)
	return name, why, nil
}

// privateGroupRule is privateGroup on the files' contents.
//
// The files are all it knows: a group whose members come from elsewhere
// (NIS "+" entries, a directory service) may have members the files do not
// show. So the group must be listed under its owner's name, as private
// groups are and a shared group such as "users" is not, and files with NIS
// entries make no group private.
func privateGroupRule(passwd, group string, uid, gid uint32) (name, why string) {
	name = strconv.FormatUint(uint64(gid), 10)
	users, usersNIS := records(passwd, 7)
	groups, groupsNIS := records(group, 4)
	var owner string
	for _, u := range users {
		if sameID(u[2], uid) {
			owner = u[0]
			break
		}
	}
	found, named := false, false
	var others []string
	for _, g := range groups {
		if !sameID(g[2], gid) {
			continue
		}
		if !found {
			name, found = g[0], true
		}
		if owner != "" && g[0] == owner {
			name, named = g[0], true
		}
		for _, m := range strings.Split(g[3], ",") {
			if m != "" && m != owner && !slices.Contains(others, m) {
				others = append(others, m)
			}
		}
	}
	for _, u := range users {
		if sameID(u[3], gid) && !sameID(u[2], uid) && !slices.Contains(others, u[0]) {
			others = append(others, u[0])
		}
	}
	switch {
	case usersNIS || groupsNIS:
		return name, "which may have members that /etc/passwd and /etc/group do not list (they have NIS entries)"
	case !found:
		return name, "which is not in /etc/group"
	case owner == "":
		return name, fmt.Sprintf("and the file's owner, uid %d, is not in /etc/passwd", uid)
	case len(others) > 0:
		return name, fmt.Sprintf("whose members include %s, besides the file's owner %s", strings.Join(others, ", "), owner)
	case !named:
		return name, fmt.Sprintf("which is not the private group of the file's owner (a group named %s with no other member)", owner)
	}
	return name, ""
}

// records returns the colon-separated records of a passwd or group file
// that have n fields, and whether the file has NIS compat entries ("+" or
// "-" lines), which stand for records it does not hold. Comments, blank and
// malformed lines are skipped, as the C library skips them.
func records(file string, n int) (recs [][]string, nis bool) {
	for line := range strings.Lines(file) {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || line[0] == '#':
		case line[0] == '+' || line[0] == '-':
			nis = true
		default:
			if f := strings.Split(line, ":"); len(f) == n {
				recs = append(recs, f)
			}
		}
	}
	return recs, nis
}

// sameID reports whether the uid or gid field s is id.
func sameID(s string, id uint32) bool {
	n, err := strconv.ParseUint(s, 10, 32)
	return err == nil && uint32(n) == id
}
