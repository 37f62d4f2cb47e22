package tasks

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// A spec keeps the exact bytes of strings that are not valid UTF-8, and
// its JSON stays valid UTF-8.
func TestSpecKeepsInvalidUTF8Bytes(t *testing.T) {
	cmd := "echo \xff\xfe"
	in := Spec{
		ID: "bg-x", Name: "n", Command: &cmd,
		Argv:    []string{"printf", "a\xffb", "ok"},
		Cwd:     "/tmp/caf\xe9",
		Env:     map[string]string{"A": "v\xff", "B": "plain"},
		BaseEnv: []string{"X=\xc3", "Y=y"},
		Tags:    []string{},
	}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if !utf8.Valid(data) || !json.Valid(data) {
		t.Fatalf("spec JSON is not valid UTF-8 JSON: %q", data)
	}
	var out Spec
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip changed the spec:\n in  %#v\n out %#v", in, out)
	}

	// Plain specs carry no "bytes" object.
	in = Spec{ID: "bg-y", Argv: []string{"true"}, Cwd: "/tmp", Tags: []string{}}
	data, _ = json.Marshal(in)
	if strings.Contains(string(data), `"bytes"`) {
		t.Fatalf("valid UTF-8 spec has a bytes object: %s", data)
	}
	out = Spec{}
	if err := json.Unmarshal(data, &out); err != nil || !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip: %v\n in  %#v\n out %#v", err, in, out)
	}
}
