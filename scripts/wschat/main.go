// Command wschat is a terminal WebSocket client for the chat example:
// each line typed is sent as a text message, each message received is
// printed.
//
//	go run ./scripts/wschat 'ws://127.0.0.1:8787/?room=lobby'
package main

import (
	"bufio"
	"fmt"
	"os"

	"github.com/gorilla/websocket"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: wschat ws://HOST/?room=R")
		os.Exit(2)
	}
	c, resp, err := websocket.DefaultDialer.Dial(os.Args[1], nil)
	if err != nil {
		if resp != nil {
			err = fmt.Errorf("%w (HTTP %s)", err, resp.Status)
		}
		fmt.Fprintln(os.Stderr, "wschat:", err)
		os.Exit(1)
	}
	defer c.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			_, b, err := c.ReadMessage()
			if err != nil {
				if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
					fmt.Fprintln(os.Stderr, "wschat: connection closed:", err)
				}
				return
			}
			fmt.Printf("< %s\n", b)
		}
	}()
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if err := c.WriteMessage(websocket.TextMessage, in.Bytes()); err != nil {
			fmt.Fprintln(os.Stderr, "wschat:", err)
			os.Exit(1)
		}
	}
	// End of input: close, and wait for the host's answer to the close.
	_ = c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	<-done
}
