package jsonedit

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// parser is a JSONC reader that records where each value is.
type parser struct {
	src []byte
	i   int
	err error
}

func (p *parser) fail(format string, args ...any) *SyntaxError {
	if p.err != nil {
		return p.err.(*SyntaxError)
	}
	line, col := 1, 1
	for _, c := range p.src[:min(p.i, len(p.src))] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	e := &SyntaxError{Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
	p.err = e
	return e
}

// skip passes whitespace and comments.
func (p *parser) skip() {
	for p.i < len(p.src) {
		switch c := p.src[p.i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			p.i++
		case c == '/' && p.i+1 < len(p.src) && p.src[p.i+1] == '/':
			for p.i < len(p.src) && p.src[p.i] != '\n' {
				p.i++
			}
		case c == '/' && p.i+1 < len(p.src) && p.src[p.i+1] == '*':
			j := bytes.Index(p.src[p.i+2:], []byte("*/"))
			if j < 0 {
				p.fail("a /* comment is not closed")
				p.i = len(p.src)
				return
			}
			p.i += j + 4
		default:
			return
		}
	}
}

func (p *parser) value() *node {
	p.skip()
	if p.err != nil {
		return nil
	}
	if p.i >= len(p.src) {
		p.fail("unexpected end of the document")
		return nil
	}
	switch p.src[p.i] {
	case '{':
		return p.object()
	case '[':
		return p.array()
	case '"':
		start := p.i
		if _, ok := p.str(); !ok {
			return nil
		}
		return &node{kind: 's', start: start, end: p.i}
	default:
		start := p.i
		for p.i < len(p.src) && !bytes.ContainsRune([]byte(" \t\r\n,]}/:"), rune(p.src[p.i])) {
			p.i++
		}
		if start == p.i || !json.Valid(p.src[start:p.i]) {
			p.fail("unexpected %q", p.src[start:max(p.i, start+1)])
			return nil
		}
		return &node{kind: 's', start: start, end: p.i}
	}
}

// str reads a string literal and returns its value.
func (p *parser) str() (string, bool) {
	start := p.i
	p.i++
	for p.i < len(p.src) && p.src[p.i] != '"' {
		if p.src[p.i] == '\\' {
			p.i++
		} else if p.src[p.i] == '\n' {
			p.fail("a string is not closed on its line")
			return "", false
		}
		p.i++
	}
	if p.i >= len(p.src) {
		p.i = start
		p.fail("a string is not closed")
		return "", false
	}
	p.i++
	var s string
	if err := json.Unmarshal(p.src[start:p.i], &s); err != nil {
		p.i = start
		p.fail("invalid string: %v", err)
		return "", false
	}
	return s, true
}

func (p *parser) object() *node {
	n := &node{kind: '{', start: p.i}
	p.i++
	for {
		p.skip()
		if p.err != nil {
			return nil
		}
		if p.i >= len(p.src) {
			p.fail("an object is not closed (missing '}')")
			return nil
		}
		if p.src[p.i] == '}' {
			p.i++
			n.end = p.i
			return n
		}
		if len(n.members) > 0 {
			if p.src[p.i] != ',' {
				p.fail("expected ',' or '}' after an object member")
				return nil
			}
			p.i++
			p.skip()
			if p.i < len(p.src) && p.src[p.i] == '}' {
				p.i++
				n.end = p.i
				return n
			}
		}
		if p.i >= len(p.src) || p.src[p.i] != '"' {
			p.fail("expected a quoted key")
			return nil
		}
		keyStart := p.i
		key, ok := p.str()
		if !ok {
			return nil
		}
		p.skip()
		if p.i >= len(p.src) || p.src[p.i] != ':' {
			p.fail("expected ':' after the key %q", key)
			return nil
		}
		p.i++
		v := p.value()
		if v == nil {
			return nil
		}
		n.members = append(n.members, member{key: key, keyStart: keyStart, val: v})
	}
}

func (p *parser) array() *node {
	n := &node{kind: '[', start: p.i}
	p.i++
	for {
		p.skip()
		if p.err != nil {
			return nil
		}
		if p.i >= len(p.src) {
			p.fail("an array is not closed (missing ']')")
			return nil
		}
		if p.src[p.i] == ']' {
			p.i++
			n.end = p.i
			return n
		}
		if len(n.elems) > 0 {
			if p.src[p.i] != ',' {
				p.fail("expected ',' or ']' after an array element")
				return nil
			}
			p.i++
			p.skip()
			if p.i < len(p.src) && p.src[p.i] == ']' {
				p.i++
				n.end = p.i
				return n
			}
		}
		v := p.value()
		if v == nil {
			return nil
		}
		n.elems = append(n.elems, v)
	}
}
