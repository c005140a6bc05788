package memory_test

import (
	"testing"

	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/store/memory"
	"github.com/councilforms/idp/store/storetest"
)

func TestMemoryContract(t *testing.T) {
	storetest.RunEphemeral(t, func(t *testing.T) store.Ephemeral {
		s := memory.New()
		t.Cleanup(func() { s.Close() })
		return s
	})
}
