// Package jsonedit changes one member of a JSON (or JSONC: comments and
// trailing commas) document in place, for `bgmux setup`: every byte outside
// the member it sets or the element it appends (other keys, their order,
// comments, indentation) stays as it was.
package jsonedit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// Doc is a parsed document: its bytes and the tree of its values with their
// byte spans.
type Doc struct {
	src  []byte
	root *node
}

type node struct {
	kind       byte // '{', '[', or 's' for a scalar (string, number, literal)
	start, end int  // src[start:end] is the value
	members    []member
	elems      []*node
}

type member struct {
	key      string
	keyStart int
	val      *node
}

// SyntaxError is a document that is not JSON (nor JSONC): where and what.
type SyntaxError struct {
	Line, Col int
	Msg       string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Col, e.Msg)
}

// Parse reads src, which must hold one JSON object (comments and trailing
// commas allowed; empty or blank is an empty object).
func Parse(src []byte) (*Doc, error) {
	if len(bytes.TrimSpace(src)) == 0 {
		src = []byte("{}\n")
	}
	p := &parser{src: src}
	p.skip()
	if p.err != nil {
		return nil, p.err
	}
	if p.i >= len(src) || src[p.i] != '{' {
		return nil, p.fail("the document is not a JSON object (it must start with '{')")
	}
	root := p.value()
	if p.err != nil {
		return nil, p.err
	}
	p.skip()
	if p.err == nil && p.i < len(src) {
		p.fail("unexpected text after the document's closing '}'")
	}
	if p.err != nil {
		return nil, p.err
	}
	return &Doc{src: src, root: root}, nil
}

// Bytes is the document as it is now.
func (d *Doc) Bytes() []byte { return d.src }

// Get decodes the value at path into out; it reports false when the path
// does not exist.
func (d *Doc) Get(path []string, out any) (bool, error) {
	n := d.find(path)
	if n == nil {
		return false, nil
	}
	return true, json.Unmarshal(standard(d.src[n.start:n.end]), out)
}

func (d *Doc) find(path []string) *node {
	n := d.root
	for _, k := range path {
		if n.kind != '{' {
			return nil
		}
		var next *node
		for _, m := range n.members {
			if m.key == k {
				next = m.val
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}

// Set makes the value at path (object keys from the top) equal to value,
// inserting the missing objects on the way. It reports whether the
// document changed: a value already equal (as JSON) is left as it is. A
// member of the path that exists but is not an object is an error.
func (d *Doc) Set(path []string, value any) (bool, error) {
	if len(path) == 0 {
		return false, fmt.Errorf("jsonedit: empty path")
	}
	n := d.root
	for i, k := range path {
		if n.kind != '{' {
			return false, fmt.Errorf("%s is not an object", strings.Join(path[:i], "."))
		}
		var next *node
		for _, m := range n.members {
			if m.key == k {
				next = m.val
			}
		}
		if next == nil {
			// Insert the rest of the path as one new member of n.
			var v any = value
			for j := len(path) - 1; j > i; j-- {
				v = orderedObject{{path[j], v}}
			}
			return true, d.insertMember(n, k, v)
		}
		n = next
	}
	var have any
	if err := json.Unmarshal(standard(d.src[n.start:n.end]), &have); err == nil {
		want, err := roundTrip(value)
		if err != nil {
			return false, err
		}
		if reflect.DeepEqual(have, want) {
			return false, nil
		}
	}
	text, err := d.render(value, lineIndent(d.src, n.start))
	if err != nil {
		return false, err
	}
	return true, d.replace(n.start, n.end, text)
}

// Append adds value as the last element of the array at path, creating the
// array (and the objects on the way) when it is missing.
func (d *Doc) Append(path []string, value any) error {
	n := d.find(path)
	if n == nil {
		_, err := d.Set(path, []any{value})
		return err
	}
	if n.kind != '[' {
		return fmt.Errorf("%s is not an array", strings.Join(path, "."))
	}
	return d.insertAt(n, len(n.elems), "", value)
}

// Elements decodes each element of the array at path (nil when missing).
func (d *Doc) Elements(path []string) ([]json.RawMessage, error) {
	n := d.find(path)
	if n == nil {
		return nil, nil
	}
	if n.kind != '[' {
		return nil, fmt.Errorf("%s is not an array", strings.Join(path, "."))
	}
	var out []json.RawMessage
	for _, e := range n.elems {
		out = append(out, json.RawMessage(standard(d.src[e.start:e.end])))
	}
	return out, nil
}

func (d *Doc) insertMember(obj *node, key string, value any) error {
	k, _ := json.Marshal(key)
	return d.insertAt(obj, len(obj.members), string(k)+": ", value)
}

// insertAt inserts prefix+value as the last member or element of container
// n (an object when prefix holds a key), in the document's layout.
func (d *Doc) insertAt(n *node, count int, prefix string, value any) error {
	unit := d.indentUnit()
	closing := n.end - 1 // the '}' or ']'
	outer := lineIndent(d.src, n.start)
	var lastEnd int
	var lastStart int
	if n.kind == '{' && len(n.members) > 0 {
		m := n.members[len(n.members)-1]
		lastStart, lastEnd = m.keyStart, m.val.end
	} else if n.kind == '[' && len(n.elems) > 0 {
		e := n.elems[len(n.elems)-1]
		lastStart, lastEnd = e.start, e.end
	}
	if count == 0 {
		inner := outer + unit
		text, err := d.render(value, inner)
		if err != nil {
			return err
		}
		open := n.start + 1
		body := "\n" + inner + prefix + text + "\n" + outer
		// Keep comments inside an empty container before the new member.
		between := d.src[open:closing]
		if len(bytes.TrimSpace(between)) > 0 {
			body = string(bytes.TrimRight(between, " \t\r\n")) + body
		}
		return d.replace(open, closing, body)
	}
	inner := lineIndent(d.src, lastStart)
	sameLine := !bytes.ContainsAny(d.src[n.start:lastStart], "\n")
	text, err := d.render(value, inner)
	if err != nil {
		return err
	}
	// A trailing comma after the last member stays one: insert after it.
	at := lastEnd
	comma := false
	p := &parser{src: d.src, i: lastEnd}
	p.skip()
	if p.i < closing && d.src[p.i] == ',' {
		at, comma = p.i+1, true
	}
	switch {
	case sameLine && comma:
		return d.replace(at, at, " "+prefix+text+",")
	case sameLine:
		return d.replace(at, at, ", "+prefix+text)
	}
	// On lines of their own: after what follows the last member on its
	// line (a comment stays with the member it belongs to).
	eol := d.restOfLine(at)
	if comma {
		return d.replace(eol, eol, "\n"+inner+prefix+text+",")
	}
	src := string(d.src[:lastEnd]) + "," + string(d.src[lastEnd:eol]) + "\n" + inner + prefix + text + string(d.src[eol:])
	return d.replace(0, len(d.src), src)
}

// restOfLine is where the line of src[i] ends, past spaces and comments
// that end on it (not past a newline).
func (d *Doc) restOfLine(i int) int {
	for i < len(d.src) {
		switch c := d.src[i]; {
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '/' && i+1 < len(d.src) && d.src[i+1] == '/':
			for i < len(d.src) && d.src[i] != '\n' {
				i++
			}
			return i
		case c == '/' && i+1 < len(d.src) && d.src[i+1] == '*':
			j := bytes.Index(d.src[i+2:], []byte("*/"))
			if j < 0 || bytes.IndexByte(d.src[i:i+2+j], '\n') >= 0 {
				return i
			}
			i += j + 4
		default:
			return i
		}
	}
	return i
}

// replace puts text in place of src[start:end] and parses the result again.
func (d *Doc) replace(start, end int, text string) error {
	src := make([]byte, 0, len(d.src)+len(text))
	src = append(src, d.src[:start]...)
	src = append(src, text...)
	src = append(src, d.src[end:]...)
	nd, err := Parse(src)
	if err != nil {
		return fmt.Errorf("jsonedit: the edit made the document invalid: %v", err)
	}
	*d = *nd
	return nil
}

// render is value as indented JSON whose lines after the first start with
// indent.
func (d *Doc) render(value any, indent string) (string, error) {
	b, err := json.MarshalIndent(value, indent, d.indentUnit())
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// indentUnit is the document's indentation step: that of the first
// member of the top-level object on a line of its own, else two spaces.
func (d *Doc) indentUnit() string {
	for _, m := range d.root.members {
		if ind := lineIndent(d.src, m.keyStart); ind != "" && onlySpaceBefore(d.src, m.keyStart) {
			return ind
		}
	}
	return "  "
}

func onlySpaceBefore(src []byte, i int) bool {
	for j := i - 1; j >= 0 && src[j] != '\n'; j-- {
		if src[j] != ' ' && src[j] != '\t' {
			return false
		}
	}
	return true
}

// lineIndent is the leading whitespace of the line holding src[i].
func lineIndent(src []byte, i int) string {
	s := i
	for s > 0 && src[s-1] != '\n' {
		s--
	}
	e := s
	for e < len(src) && (src[e] == ' ' || src[e] == '\t') {
		e++
	}
	return string(src[s:e])
}

// orderedObject is a JSON object that keeps its keys in order.
type orderedObject []struct {
	k string
	v any
}

func (o orderedObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, kv := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(kv.k)
		v, err := json.Marshal(kv.v)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func roundTrip(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	return out, json.Unmarshal(b, &out)
}

// standard is JSONC text as plain JSON: comments blanked, trailing commas
// dropped (string contents untouched).
func standard(src []byte) []byte {
	out := make([]byte, 0, len(src))
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '"':
			j := i + 1
			for j < len(src) && src[j] != '"' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(src) {
				j = len(src) - 1
			}
			out = append(out, src[i:j+1]...)
			i = j
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			out = append(out, '\n')
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			j := bytes.Index(src[i+2:], []byte("*/"))
			if j < 0 {
				i = len(src)
			} else {
				i += j + 3
			}
			out = append(out, ' ')
		case c == ',':
			// Drop it when only whitespace/comments come before } or ].
			p := &parser{src: src, i: i + 1}
			p.skip()
			if p.i < len(src) && (src[p.i] == '}' || src[p.i] == ']') {
				continue
			}
			out = append(out, c)
		default:
			out = append(out, c)
		}
	}
	return out
}

// MarshalOrdered is an object with keys in the order given (key, value,
// key, value...), for values whose member order matters to a reader.
func MarshalOrdered(kv ...any) json.Marshaler {
	var o orderedObject
	for i := 0; i+1 < len(kv); i += 2 {
		o = append(o, struct {
			k string
			v any
		}{kv[i].(string), kv[i+1]})
	}
	return o
}
