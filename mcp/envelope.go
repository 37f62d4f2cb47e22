package mcp

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// verdict is what the stdio transport makes of one line: a valid
// message for the SDK, an error to answer, or a message dropped without
// an answer (JSON-RPC never answers a response).
type verdict struct {
	// msg is the valid message, nil otherwise.
	msg jsonrpc.Message
	// code and text are the error answered (code 0: no answer), with id:
	// the id of the request as sent, or nil for null.
	code int
	text string
	id   json.RawMessage
	// dropped says why a line with no answer was not handed on ("" for a
	// blank line, which is skipped).
	dropped string
}

func rejected(code int, id json.RawMessage, text string) verdict {
	return verdict{code: code, id: id, text: text}
}

// tooLongVerdict answers a line over maxLine, skipped unread.
var tooLongVerdict = rejected(jsonrpc.CodeInvalidRequest, nil, "Invalid Request: the message is longer than the limit of 16 MiB and was skipped")

// decodeLine checks that line is one JSON-RPC 2.0 message as MCP sends
// them: a request or notification (jsonrpc "2.0", a string method, params
// an object or an array, a request's id a string or an integer), or a
// response (an id and exactly one of result and error). Text that is not
// JSON is answered with Parse error (id null); JSON that is not such a
// message with Invalid Request, carrying the request's id when it is a
// string or a number. MCP has no batches: an array is an Invalid Request.
// Responses are never answered; an invalid one is dropped.
func decodeLine(line []byte) verdict {
	line = bytes.Trim(line, " \t\r\n")
	if len(line) == 0 {
		return verdict{}
	}
	if !json.Valid(line) {
		return rejected(jsonrpc.CodeParseError, nil, "Parse error: the line is not valid JSON (bgmux mcp reads one JSON-RPC 2.0 message per line)")
	}
	switch line[0] {
	case '{':
	case '[':
		return rejected(jsonrpc.CodeInvalidRequest, nil, "Invalid Request: a JSON array (a JSON-RPC batch); MCP does not support batches: send one message per line")
	default:
		return rejected(jsonrpc.CodeInvalidRequest, nil, "Invalid Request: not a JSON object; each line must be one JSON-RPC 2.0 message object")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(line, &fields); err != nil {
		return rejected(jsonrpc.CodeParseError, nil, "Parse error: "+err.Error())
	}
	rawID, hasID := fields["id"]
	id, idOK := requestID(rawID)
	var echo json.RawMessage // the id an answer carries
	if hasID && len(rawID) > 0 && (rawID[0] == '"' || rawID[0] == '-' || rawID[0] >= '0' && rawID[0] <= '9') {
		echo = rawID
	}
	_, hasMethod := fields["method"]
	_, hasResult := fields["result"]
	_, hasError := fields["error"]
	if !hasMethod && (hasResult || hasError) {
		return decodeResponse(fields, id, idOK)
	}
	invalid := func(text string) verdict {
		return rejected(jsonrpc.CodeInvalidRequest, echo, "Invalid Request: "+text)
	}
	if !isVersion2(fields["jsonrpc"]) {
		return invalid(`"jsonrpc" must be "2.0"`)
	}
	if !hasMethod {
		return invalid(`no "method" (a request needs a method, a response a result or an error)`)
	}
	var method string
	if err := json.Unmarshal(fields["method"], &method); err != nil {
		return invalid(`"method" must be a string`)
	}
	if hasID && !idOK {
		return invalid(`"id" must be a string or an integer of at most 2^53 (MCP requests never have a null id)`)
	}
	params := fields["params"]
	switch {
	case string(params) == "null":
		params = nil // as if omitted
	case len(params) > 0 && params[0] != '{' && params[0] != '[':
		return invalid(`"params" must be an object or an array`)
	}
	return verdict{msg: &jsonrpc.Request{ID: id, Method: method, Params: params}}
}

// decodeResponse checks a response from the client (to a request the
// server sent); an invalid one is dropped, as is an error response with
// id null: the client could not read something the server sent, and no
// request waits for it.
func decodeResponse(fields map[string]json.RawMessage, id jsonrpc.ID, idOK bool) verdict {
	drop := func(why string) verdict { return verdict{dropped: why} }
	if !isVersion2(fields["jsonrpc"]) {
		return drop(`a response whose "jsonrpc" is not "2.0"`)
	}
	if !idOK {
		if string(fields["id"]) == "null" {
			return drop("an error response with id null (the client could not read a message)")
		}
		return drop(`a response without a string or integer "id"`)
	}
	res, hasResult := fields["result"]
	rawErr, hasError := fields["error"]
	if hasResult && hasError {
		return drop("a response with both a result and an error")
	}
	if hasResult {
		return verdict{msg: &jsonrpc.Response{ID: id, Result: res}}
	}
	var e map[string]json.RawMessage
	var code int64
	var msg string
	if json.Unmarshal(rawErr, &e) != nil || json.Unmarshal(e["code"], &code) != nil || json.Unmarshal(e["message"], &msg) != nil {
		return drop(`a response whose "error" is not an object with an integer code and a string message`)
	}
	return verdict{msg: &jsonrpc.Response{ID: id, Error: &jsonrpc.Error{Code: code, Message: msg, Data: e["data"]}}}
}

// isVersion2 reports whether raw is the JSON string "2.0", however it is
// written (escapes included).
func isVersion2(raw json.RawMessage) bool {
	var v string
	return len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &v) == nil && v == "2.0"
}

// integerID is an id the SDK keeps exactly: an integer without fraction
// or exponent.
var integerID = regexp.MustCompile(`^-?(0|[1-9][0-9]{0,15})$`)

// requestID is raw as a request id, and whether it is one MCP allows: a
// string, or an integer within ±2^53 (the SDK holds numbers as float64
// on the way in, so a larger one would be answered under another id).
func requestID(raw json.RawMessage) (jsonrpc.ID, bool) {
	if len(raw) == 0 {
		return jsonrpc.ID{}, false
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return jsonrpc.ID{}, false
		}
		id, err := jsonrpc.MakeID(s)
		return id, err == nil
	}
	if !integerID.Match(raw) {
		return jsonrpc.ID{}, false
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || n > 1<<53 || n < -(1<<53) {
		return jsonrpc.ID{}, false
	}
	id, err := jsonrpc.MakeID(float64(n))
	return id, err == nil
}
