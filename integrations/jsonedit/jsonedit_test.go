package jsonedit

import (
	"strings"
	"testing"
)

func TestSetupJSONEditKeepsTheRest(t *testing.T) {
	src := `{
    // the schema
    "$schema": "https://opencode.ai/config.json",
    "theme": "dark", /* trailing */
    "mcp": {
        "other": {"type": "remote", "url": "http://x"},
    },
}
`
	d, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	changed, err := d.Set([]string{"mcp", "bgmux"}, MarshalOrdered("type", "local", "command", []string{"/b/bgmux", "mcp"}, "enabled", true))
	if err != nil || !changed {
		t.Fatalf("Set: %v %v", changed, err)
	}
	got := string(d.Bytes())
	for _, keep := range []string{"// the schema", `"theme": "dark", /* trailing */`, `"other": {"type": "remote", "url": "http://x"},`} {
		if !strings.Contains(got, keep) {
			t.Errorf("lost %q:\n%s", keep, got)
		}
	}
	want := `        "bgmux": {
            "type": "local",
            "command": [
                "/b/bgmux",
                "mcp"
            ],
            "enabled": true
        },
    },`
	if !strings.Contains(got, want) {
		t.Errorf("the new member is not in the document's layout:\n%s", got)
	}
	changed, err = d.Set([]string{"mcp", "bgmux"}, MarshalOrdered("type", "local", "command", []string{"/b/bgmux", "mcp"}, "enabled", true))
	if err != nil || changed {
		t.Fatalf("a second Set changed the document (%v, %v):\n%s", changed, err, d.Bytes())
	}
}

func TestSetupJSONEditNewPathAndArrays(t *testing.T) {
	d, err := Parse([]byte(`{"a": 1}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Set([]string{"hooks", "SessionStart"}, []any{}); err != nil {
		t.Fatal(err)
	}
	if err := d.Append([]string{"hooks", "SessionStart"}, map[string]any{"x": 1}); err != nil {
		t.Fatal(err)
	}
	if err := d.Append([]string{"hooks", "SessionStart"}, map[string]any{"y": 2}); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if ok, err := d.Get(nil, &got); !ok || err != nil {
		t.Fatal(ok, err)
	}
	els, _ := d.Elements([]string{"hooks", "SessionStart"})
	if len(els) != 2 || got["a"] != float64(1) {
		t.Fatalf("got %s", d.Bytes())
	}
	for _, bad := range []string{`{"a": }`, `[1]`, `{"a": 1} x`, `{"a" 1}`, `{"a": "x`, `{/* x`} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%q) accepted it", bad)
		}
	}
}
