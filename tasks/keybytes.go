package tasks

import (
	"strings"
	"unicode/utf8"
)

// keySeq are the bytes a terminal (xterm, tmux's TERM) sends for the
// named keys, lower-cased as in keyNames.
var keySeq = map[string]string{
	"enter": "\r", "kpenter": "\r", "tab": "\t", "btab": "\x1b[Z", "space": " ", "bspace": "\x7f",
	"escape": "\x1b", "up": "\x1b[A", "down": "\x1b[B", "right": "\x1b[C", "left": "\x1b[D",
	"home": "\x1b[1~", "end": "\x1b[4~", "ic": "\x1b[2~", "insert": "\x1b[2~", "dc": "\x1b[3~", "delete": "\x1b[3~",
	"ppage": "\x1b[5~", "pageup": "\x1b[5~", "pgup": "\x1b[5~", "npage": "\x1b[6~", "pagedown": "\x1b[6~", "pgdn": "\x1b[6~",
	"f1": "\x1bOP", "f2": "\x1bOQ", "f3": "\x1bOR", "f4": "\x1bOS", "f5": "\x1b[15~", "f6": "\x1b[17~",
	"f7": "\x1b[18~", "f8": "\x1b[19~", "f9": "\x1b[20~", "f10": "\x1b[21~", "f11": "\x1b[23~", "f12": "\x1b[24~",
	"kp/": "/", "kp*": "*", "kp-": "-", "kp+": "+", "kp.": ".",
	"kp0": "0", "kp1": "1", "kp2": "2", "kp3": "3", "kp4": "4", "kp5": "5", "kp6": "6", "kp7": "7", "kp8": "8", "kp9": "9",
}

// keyBytes is what typing key (tmux's syntax, checked by ValidateKey)
// sends to a terminal: used when a task is typed into through its
// supervisor instead of through tmux (it has no window). C- makes a
// control character, M- puts ESC before the key; S- of a letter is its
// capital.
func keyBytes(key string) []byte {
	k := key
	ctrl, meta, shift := false, false, false
	for {
		if len(k) > 2 && k[1] == '-' && strings.ContainsRune("CcMmSs", rune(k[0])) {
			switch k[0] {
			case 'C', 'c':
				ctrl = true
			case 'M', 'm':
				meta = true
			default:
				shift = true
			}
			k = k[2:]
			continue
		}
		if len(k) > 1 && k[0] == '^' {
			ctrl, k = true, k[1:]
			continue
		}
		break
	}
	var out string
	if seq, ok := keySeq[strings.ToLower(k)]; ok && utf8.RuneCountInString(k) > 1 {
		out = seq
		if ctrl && strings.EqualFold(k, "space") {
			out = "\x00"
		}
	} else {
		out = k
		if shift && len(k) == 1 {
			out = strings.ToUpper(k)
		}
		if ctrl && len(k) == 1 {
			c := k[0]
			switch {
			case c >= 'a' && c <= 'z':
				out = string(rune(c - 'a' + 1))
			case c >= '@' && c <= '_':
				out = string(rune(c - '@'))
			case c == '?':
				out = "\x7f"
			case c == ' ':
				out = "\x00"
			}
		}
	}
	if meta {
		out = "\x1b" + out
	}
	return []byte(out)
}
