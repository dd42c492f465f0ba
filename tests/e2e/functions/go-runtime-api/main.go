// A Go function for provided.al2023 that speaks the Runtime API directly (AWS's aws-lambda-go
// cannot be fetched here): it echoes the event with what the API gave it, reports an error when
// the event asks for one, sleeps when asked (timeouts), and panics on request (a crash).
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

func post(url string, body []byte, errorType string) {
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	if errorType != "" {
		req.Header.Set("Lambda-Runtime-Function-Error-Type", errorType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, "post:", err)
		os.Exit(1)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

func main() {
	api := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/invocation/"
	for {
		resp, err := http.Get(api + "next")
		if err != nil {
			fmt.Fprintln(os.Stderr, "next:", err)
			os.Exit(1)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
		var event map[string]interface{}
		if err := json.Unmarshal(body, &event); err != nil {
			event = map[string]interface{}{}
		}
		fmt.Println("GO handling", id)
		if event["fail"] == true {
			e, _ := json.Marshal(map[string]interface{}{
				"errorMessage": "asked to fail", "errorType": "main.CustomError",
				"stackTrace": []string{}})
			post(api+id+"/error", e, "main.CustomError")
			continue
		}
		if event["panic"] == true {
			panic("asked to panic")
		}
		if ms, ok := event["sleep_ms"].(float64); ok {
			time.Sleep(time.Duration(ms) * time.Millisecond)
		}
		layer, _ := os.ReadFile("/opt/config/greeting.txt") // from a layer, when it has one
		out, _ := json.Marshal(map[string]interface{}{
			"layer":     string(layer),
			"echo":      event,
			"requestId": id,
			"deadline":  resp.Header.Get("Lambda-Runtime-Deadline-Ms"),
			"arn":       resp.Header.Get("Lambda-Runtime-Invoked-Function-Arn"),
			"function":  os.Getenv("AWS_LAMBDA_FUNCTION_NAME"),
			"memory":    os.Getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"),
			"handler":   os.Getenv("_HANDLER"),
		})
		post(api+id+"/response", out, "")
	}
}
