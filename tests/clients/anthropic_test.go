//go:build clients

package clients

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// The Anthropic Messages API, as much of it as Claude Code uses.

type anthropicBlock struct {
	Type      string          `json:"type"`
	Text      string          `json:"text"`
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Input     map[string]any  `json:"input"`
	ToolUseID string          `json:"tool_use_id"`
	Content   json.RawMessage `json:"content"`
	IsError   bool            `json:"is_error"`
}

type anthropicRequest struct {
	Model    string          `json:"model"`
	Stream   bool            `json:"stream"`
	System   json.RawMessage `json:"system"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Tools []struct {
		Name string `json:"name"`
	} `json:"tools"`
}

// anthropicBlocks decodes content that is a string or a list of blocks.
func anthropicBlocks(raw json.RawMessage) ([]anthropicBlock, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []anthropicBlock{{Type: "text", Text: s}}, nil
	}
	var blocks []anthropicBlock
	err := json.Unmarshal(raw, &blocks)
	return blocks, err
}

// anthropicText joins the text blocks of content.
func anthropicText(raw json.RawMessage) string {
	blocks, _ := anthropicBlocks(raw)
	var s string
	for _, b := range blocks {
		if b.Type == "text" {
			if s != "" {
				s += "\n"
			}
			s += b.Text
		}
	}
	return s
}

func decodeAnthropic(body []byte) (*Request, error) {
	var ar anthropicRequest
	if err := json.Unmarshal(body, &ar); err != nil {
		return nil, fmt.Errorf("anthropic request: %v", err)
	}
	r := &Request{API: "anthropic", Model: ar.Model, Stream: ar.Stream, System: anthropicText(ar.System)}
	for _, t := range ar.Tools {
		r.Tools = append(r.Tools, t.Name)
	}
	calls := map[string]ToolCall{}
	for _, am := range ar.Messages {
		blocks, err := anthropicBlocks(am.Content)
		if err != nil {
			return nil, fmt.Errorf("anthropic message content: %v", err)
		}
		m := Message{Role: am.Role}
		for _, b := range blocks {
			switch b.Type {
			case "text":
				if m.Text != "" {
					m.Text += "\n"
				}
				m.Text += b.Text
			case "tool_use":
				c := ToolCall{ID: b.ID, Name: b.Name, Input: b.Input}
				calls[b.ID] = c
				m.Calls = append(m.Calls, c)
			case "tool_result":
				m.Results = append(m.Results, ToolResult{
					Call: calls[b.ToolUseID], Text: anthropicText(b.Content), IsError: b.IsError, Raw: b.Content,
				})
			}
		}
		r.Messages = append(r.Messages, m)
	}
	return r, nil
}

// writeAnthropic answers with turn, as an SSE stream when the request
// asked for one, else as one message object.
func writeAnthropic(w http.ResponseWriter, req *Request, turn Turn, id string) {
	var content []map[string]any
	if turn.Text != "" {
		content = append(content, map[string]any{"type": "text", "text": turn.Text})
	}
	for _, c := range turn.Calls {
		content = append(content, map[string]any{"type": "tool_use", "id": c.ID, "name": c.Name, "input": c.Input})
	}
	stop := "end_turn"
	if len(turn.Calls) > 0 {
		stop = "tool_use"
	}
	usage := map[string]any{"input_tokens": 100, "output_tokens": 20, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
	if !req.Stream {
		if content == nil {
			content = []map[string]any{}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"id": id, "type": "message", "role": "assistant", "model": req.Model,
			"content": content, "stop_reason": stop, "stop_sequence": nil, "usage": usage,
		})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	flusher, _ := w.(http.Flusher)
	event := func(name string, data map[string]any) {
		data["type"] = name
		b, _ := json.Marshal(data)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, b)
		if flusher != nil {
			flusher.Flush()
		}
	}
	event("message_start", map[string]any{"message": map[string]any{
		"id": id, "type": "message", "role": "assistant", "model": req.Model, "content": []any{},
		"stop_reason": nil, "stop_sequence": nil,
		"usage": map[string]any{"input_tokens": 100, "output_tokens": 1, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
	}})
	for i, block := range content {
		if block["type"] == "text" {
			event("content_block_start", map[string]any{"index": i, "content_block": map[string]any{"type": "text", "text": ""}})
			event("content_block_delta", map[string]any{"index": i, "delta": map[string]any{"type": "text_delta", "text": block["text"]}})
		} else {
			event("content_block_start", map[string]any{"index": i, "content_block": map[string]any{
				"type": "tool_use", "id": block["id"], "name": block["name"], "input": map[string]any{},
			}})
			input, _ := json.Marshal(block["input"])
			event("content_block_delta", map[string]any{"index": i, "delta": map[string]any{"type": "input_json_delta", "partial_json": string(input)}})
		}
		event("content_block_stop", map[string]any{"index": i})
	}
	event("message_delta", map[string]any{"delta": map[string]any{"stop_reason": stop, "stop_sequence": nil}, "usage": map[string]any{"output_tokens": 20}})
	event("message_stop", map[string]any{})
}
