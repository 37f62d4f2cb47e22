//go:build clients

package clients

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// The OpenAI chat completions API, as much of it as OpenCode's
// @ai-sdk/openai-compatible provider uses.

type openaiRequest struct {
	Model    string `json:"model"`
	Stream   bool   `json:"stream"`
	Messages []struct {
		Role       string          `json:"role"`
		Content    json.RawMessage `json:"content"`
		ToolCallID string          `json:"tool_call_id"`
		ToolCalls  []struct {
			ID       string `json:"id"`
			Function struct {
				Name      string `json:"name"`
				Arguments string `json:"arguments"`
			} `json:"function"`
		} `json:"tool_calls"`
	} `json:"messages"`
	Tools []struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	} `json:"tools"`
}

// openaiText decodes content that is a string or a list of parts.
func openaiText(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	json.Unmarshal(raw, &parts)
	for _, p := range parts {
		if p.Type == "text" {
			if s != "" {
				s += "\n"
			}
			s += p.Text
		}
	}
	return s
}

func decodeOpenAI(body []byte) (*Request, error) {
	var or openaiRequest
	if err := json.Unmarshal(body, &or); err != nil {
		return nil, fmt.Errorf("openai request: %v", err)
	}
	r := &Request{API: "openai", Model: or.Model, Stream: or.Stream}
	for _, t := range or.Tools {
		r.Tools = append(r.Tools, t.Function.Name)
	}
	calls := map[string]ToolCall{}
	for _, om := range or.Messages {
		m := Message{Role: om.Role, Text: openaiText(om.Content)}
		switch om.Role {
		case "system":
			if r.System != "" {
				r.System += "\n"
			}
			r.System += m.Text
		case "tool":
			m.Results = []ToolResult{{Call: calls[om.ToolCallID], Text: m.Text, Raw: om.Content}}
		}
		for _, tc := range om.ToolCalls {
			c := ToolCall{ID: tc.ID, Name: tc.Function.Name}
			if err := json.Unmarshal([]byte(tc.Function.Arguments), &c.Input); err != nil {
				return nil, fmt.Errorf("openai tool call arguments %q: %v", tc.Function.Arguments, err)
			}
			calls[tc.ID] = c
			m.Calls = append(m.Calls, c)
		}
		r.Messages = append(r.Messages, m)
	}
	return r, nil
}

// writeOpenAI answers with turn, as an SSE stream of chunks when the
// request asked for one, else as one completion object.
func writeOpenAI(w http.ResponseWriter, req *Request, turn Turn, id string) {
	var calls []map[string]any
	for i, c := range turn.Calls {
		args, _ := json.Marshal(c.Input)
		calls = append(calls, map[string]any{
			"index": i, "id": c.ID, "type": "function",
			"function": map[string]any{"name": c.Name, "arguments": string(args)},
		})
	}
	finish := "stop"
	if len(calls) > 0 {
		finish = "tool_calls"
	}
	usage := map[string]any{"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
	created := time.Now().Unix()
	if !req.Stream {
		msg := map[string]any{"role": "assistant", "content": turn.Text}
		if calls != nil {
			msg["tool_calls"] = calls
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"id": id, "object": "chat.completion", "created": created, "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish}},
			"usage":   usage,
		})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	flusher, _ := w.(http.Flusher)
	chunk := func(delta map[string]any, finish any, usage any) {
		c := map[string]any{
			"id": id, "object": "chat.completion.chunk", "created": created, "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}},
		}
		if usage != nil {
			c["usage"] = usage
		}
		b, _ := json.Marshal(c)
		fmt.Fprintf(w, "data: %s\n\n", b)
		if flusher != nil {
			flusher.Flush()
		}
	}
	chunk(map[string]any{"role": "assistant", "content": ""}, nil, nil)
	if turn.Text != "" {
		chunk(map[string]any{"content": turn.Text}, nil, nil)
	}
	for _, c := range calls {
		chunk(map[string]any{"tool_calls": []any{c}}, nil, nil)
	}
	chunk(map[string]any{}, finish, usage)
	fmt.Fprint(w, "data: [DONE]\n\n")
	if flusher != nil {
		flusher.Flush()
	}
}
