package quota

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestBudget(t *testing.T) {
	b := New("memory of account a", "bytes", 100)
	if err := b.Take(60); err != nil {
		t.Fatal(err)
	}
	err := b.Take(50)
	if !errors.Is(err, ErrExhausted) || !strings.Contains(err.Error(), "memory of account a: 60 bytes in use of 100, and 50 more asked") {
		t.Errorf("over the limit: %v", err)
	}
	if b.Used() != 60 {
		t.Errorf("a refused Take left %d in use", b.Used())
	}
	b.Give(60)
	if err := New("x", "", 0).Take(1 << 40); err != nil {
		t.Errorf("no limit: %v", err)
	}
}

// TestPair: a Take that the host refuses takes nothing from the tenant.
func TestPair(t *testing.T) {
	h := NewHost(Limits{Writes: 100, AccountWrites: 80})
	a, b := h.Tenant("a"), h.Tenant("b")
	if a != h.Tenant("a") {
		t.Fatal("two budgets for one account")
	}
	if err := a.Writes.Take(80); err != nil {
		t.Fatal(err)
	}
	if err := a.Writes.Take(1); err == nil {
		t.Error("account a went past its 80")
	}
	if err := b.Writes.Take(30); err == nil || b.Writes.Tenant.Used() != 0 {
		t.Errorf("the host's 100 were exceeded, or b kept what the host refused: %v, %d", err, b.Writes.Tenant.Used())
	}
	a.Writes.Give(80)
	if h.Writes.Used() != 0 {
		t.Errorf("host writes in use: %d", h.Writes.Used())
	}
}

// TestBudget_hammer: concurrent takers never hold more than the limit.
func TestBudget_hammer(t *testing.T) {
	b := New("x", "units", 1000)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10000; i++ {
				if b.Take(7) == nil {
					if u := b.Used(); u > 1000+8*7 {
						t.Errorf("used %d", u)
					}
					b.Give(7)
				}
			}
		}()
	}
	wg.Wait()
	if b.Used() != 0 {
		t.Errorf("used %d after all gave back", b.Used())
	}
}

// TestReclaim: a guest memory budget that would go past its limit first
// has the reclaimer free room (of the account, or of any for the host's
// budget), and fails only when the reclaimer has nothing left to free.
func TestReclaim(t *testing.T) {
	h := NewHost(Limits{Memory: 100, AccountMemory: 60})
	a := h.Tenant("a")
	var asked []string
	h.SetMemoryReclaimer(func(account string) bool {
		asked = append(asked, account)
		if account == "a" && a.Memory.Tenant.Used() >= 20 {
			a.Memory.Give(20) // an idle object of a's gives its memory back
			return true
		}
		return false
	})
	if err := a.Memory.Take(50); err != nil {
		t.Fatal(err)
	}
	if err := a.Memory.Take(30); err != nil {
		t.Fatalf("a take that reclaiming makes room for: %v", err)
	}
	if used := a.Memory.Tenant.Used(); used != 60 {
		t.Errorf("a uses %d, want 60 (50 - 20 reclaimed + 30)", used)
	}
	if fmt.Sprint(asked) != "[a]" {
		t.Errorf("reclaimer asked for %v, want [a]", asked)
	}
	asked = nil
	if err := h.Tenant("b").Memory.Take(50); !errors.Is(err, ErrExhausted) {
		t.Errorf("b's take past the host's limit: %v, want ErrExhausted", err)
	}
	if len(asked) != 1 || asked[0] != "" {
		t.Errorf("reclaimer asked for %q, want [\"\"] (the host's budget asks for any account)", asked)
	}
}
