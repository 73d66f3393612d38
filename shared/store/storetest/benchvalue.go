package storetest

import (
	"encoding/json"
	"fmt"

	"github.com/authok-edge/authok/shared/store"
)

// BenchClient is shaped like what the token endpoint reads: a client with a
// handful of fields, stored as JSON (about 250 bytes). The store and cache
// benchmarks read and decode it.
type BenchClient struct {
	ID           string   `json:"client_id"`
	Name         string   `json:"name"`
	SecretHash   string   `json:"client_secret"`
	GrantTypes   []string `json:"grant_types"`
	Callbacks    []string `json:"callbacks"`
	TokenTTL     int      `json:"token_lifetime"`
	IsFirstParty bool     `json:"is_first_party"`
	Version      uint64   `json:"-"`
}

// BenchValue encodes the i-th BenchClient.
func BenchValue(i int) []byte {
	v, err := json.Marshal(BenchClient{
		ID: fmt.Sprintf("client%04d", i), Name: "Example app", SecretHash: "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0",
		GrantTypes: []string{"client_credentials", "refresh_token"}, Callbacks: []string{"https://app.example.com/cb"},
		TokenTTL: 86400,
	})
	if err != nil {
		panic(err) // a fixed struct of strings always encodes
	}
	return v
}

// DecodeBenchClient is the cache decoder of a BenchValue.
func DecodeBenchClient(it store.Item) (*BenchClient, error) {
	var c BenchClient
	if err := json.Unmarshal(it.Value, &c); err != nil {
		return nil, err
	}
	c.Version = it.Version
	return &c, nil
}
