package tasks

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// decimalRE is a plain decimal number as the docs promise for bare
// seconds and byte counts: no sign other than "+", no hex, no "_".
var decimalRE = regexp.MustCompile(`^\+?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$`)

// FuzzParseDuration checks the duration parser behind --timeout, --grace,
// --since, --older-than, stop_grace and ready_timeout. An accepted value
// is never negative; it is what time.ParseDuration gives when that
// accepts the text, else the text is a plain decimal number of seconds
// below 1e9. Anything starting with "-" is rejected as negative, and
// every rejection is an invalid_input error that quotes the value. Every
// duration d >= 0 round-trips: ParseDuration(d.String()) == d, and its
// number of seconds parses back to within float precision; a negative
// one is rejected saying so.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{
		"", "5s", "1m30s", "250ms", "5", "0.5", "0", ".5", "5.", "+5", "1e3", "1e-10", "-1e-10", "-0", "-0s", "-0.1ns",
		"-1s", "-3", " 5s ", "5 s", "0x1p4", "1_0", "1e9", "999999999", "NaN", "Inf", "-Inf", "infinity",
		"2562047h47m16.854775807s", "2562047h47m16.854775808s", "9223372036854775807ns", "1µs", "1us", "1h1h", "\u00a05s",
	} {
		f.Add(s, int64(len(s))*int64(time.Second))
	}
	f.Add("", int64(math.MaxInt64))
	f.Add("", int64(math.MinInt64))
	f.Add("", int64(-1))
	f.Add("", int64(999999999999999999))
	f.Fuzz(func(t *testing.T, s string, n int64) {
		d, err := ParseDuration(s)
		trimmed := strings.TrimSpace(s)
		if err != nil {
			if KindOf(err) != KindInvalid || !strings.Contains(err.Error(), fmt.Sprintf("%q", trimmed)) || !strings.Contains(err.Error(), "duration") {
				t.Fatalf("ParseDuration(%q): %v; want invalid_input quoting the value", s, err)
			}
			if strings.HasPrefix(trimmed, "-") && !strings.Contains(err.Error(), "negative") {
				t.Fatalf("ParseDuration(%q): %v; want it to say negative", s, err)
			}
		} else {
			if d < 0 || strings.HasPrefix(trimmed, "-") {
				t.Fatalf("ParseDuration(%q) = %v: negative input accepted", s, d)
			}
			if gd, gerr := time.ParseDuration(trimmed); gerr == nil {
				if gd != d {
					t.Fatalf("ParseDuration(%q) = %v; time.ParseDuration says %v", s, d, gd)
				}
			} else {
				if !decimalRE.MatchString(trimmed) {
					t.Fatalf("ParseDuration(%q) = %v: neither a Go duration nor a decimal number of seconds", s, d)
				}
				sec, _ := strconv.ParseFloat(trimmed, 64)
				if sec >= 1e9 || d != time.Duration(sec*float64(time.Second)) {
					t.Fatalf("ParseDuration(%q) = %v; want %g seconds (below 1e9)", s, d, sec)
				}
			}
		}

		in := time.Duration(n)
		d, err = ParseDuration(in.String())
		if n < 0 {
			if err == nil || KindOf(err) != KindInvalid || !strings.Contains(err.Error(), "negative") {
				t.Fatalf("ParseDuration(%q) = %v, %v; want a negative-duration error", in.String(), d, err)
			}
			return
		}
		if err != nil || d != in {
			t.Fatalf("ParseDuration(%q) = %v, %v; want %d ns back", in.String(), d, err, n)
		}
		secs := strconv.FormatFloat(in.Seconds(), 'f', -1, 64)
		d, err = ParseDuration(secs)
		switch {
		case in.Seconds() >= 1e9:
			if err == nil || KindOf(err) != KindInvalid || !strings.Contains(err.Error(), "too long") {
				t.Fatalf("ParseDuration(%q) = %v, %v; want a too-long error", secs, d, err)
			}
		case err != nil:
			t.Fatalf("ParseDuration(%q) = %v; want about %v", secs, err, in)
		case durDiff(int64(d), n) > n>>40+1:
			t.Fatalf("ParseDuration(%q) = %d ns; want about %d", secs, int64(d), n)
		}
	})
}

func durDiff(a, b int64) int64 {
	if a > b {
		return a - b
	}
	return b - a
}

// sizeUnits are the units ParseSize documents, in lower case.
var sizeUnits = map[string]int64{"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30}

// maxParsedSize is the largest size ParseSize accepts (1 PiB).
const maxParsedSize = 1 << 50

// FuzzParseSize checks the size parser behind --max-log-size and
// max_log_size. An accepted value is a plain decimal number followed by
// an optional documented unit (any case, spaces around it allowed), and
// equals that number times the unit, truncated, between 0 and 1 PiB;
// every rejection is an invalid_input error that quotes the value. Every
// whole number of bytes, KiB, MiB and GiB in range round-trips, and a
// negative or too large one is rejected.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{
		"", "0", "4096", "64MiB", "64mib", "8M", "512k", "1.5k", "1GiB", "1 GiB", " 2 kb ", "1e3", "1e-3", ".5k", "5.k",
		"-1", "-0", "-0k", "0x1p4", "1_000", "Inf", "NaN", "1e15", "1125899906842624", "1125899906842625", "1048576GiB",
		"1048577GiB", "5iB", "5 M B", "5TB", "k", "5kk", "9007199254740993",
	} {
		f.Add(s, int64(len(s)))
	}
	f.Add("", int64(maxParsedSize))
	f.Add("", int64(maxParsedSize+1))
	f.Add("", int64(-1))
	f.Add("", int64(math.MaxInt64))
	f.Fuzz(func(t *testing.T, s string, n int64) {
		v, err := ParseSize(s)
		if err != nil {
			if KindOf(err) != KindInvalid || !strings.Contains(err.Error(), fmt.Sprintf("%q", s)) || !strings.Contains(err.Error(), "size") {
				t.Fatalf("ParseSize(%q): %v; want invalid_input quoting the value", s, err)
			}
		} else {
			trimmed := strings.TrimSpace(s)
			num := strings.TrimRight(trimmed, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
			unit := strings.ToLower(strings.TrimSpace(trimmed[len(num):]))
			num = strings.TrimSpace(num)
			mult, ok := sizeUnits[unit]
			if !ok || !decimalRE.MatchString(num) {
				t.Fatalf("ParseSize(%q) = %d: not a decimal number with a documented unit (%q, %q)", s, v, num, unit)
			}
			x, _ := strconv.ParseFloat(num, 64)
			if v < 0 || v > maxParsedSize || v != int64(x*float64(mult)) {
				t.Fatalf("ParseSize(%q) = %d; want %g * %d within 0..1PiB", s, v, x, mult)
			}
		}

		for _, u := range []struct {
			suffix string
			mult   int64
		}{{"", 1}, {"KiB", 1 << 10}, {"M", 1 << 20}, {" gb", 1 << 30}} {
			text := strconv.FormatInt(n, 10) + u.suffix
			v, err := ParseSize(text)
			inRange := n >= 0 && n <= maxParsedSize/u.mult
			if inRange && (err != nil || v != n*u.mult) {
				t.Fatalf("ParseSize(%q) = %d, %v; want %d", text, v, err, n*u.mult)
			}
			if !inRange && (err == nil || KindOf(err) != KindInvalid) {
				t.Fatalf("ParseSize(%q) = %d, %v; want an invalid_input error", text, v, err)
			}
		}
	})
}
