// Package shell quotes words for the POSIX shell, for the commands jobctl
// writes and the commands it tells users to type.
package shell

import "strings"

// Quote returns s as one shell word: unchanged when it holds only
// characters the shell takes literally, else in single quotes.
func Quote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.,/:=@%+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
