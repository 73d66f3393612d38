package mgmtapi

import (
	"encoding/json"
	"fmt"
	"github.com/authok-edge/authok/control/internal/rest"

	"github.com/authok-edge/authok/shared/model"
)

func renderExecution(e model.ActionExecution) ([]byte, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("mgmtapi: encode execution: %w", err)
	}
	return b, nil
}

// getExecution answers GET /actions/executions/{id}: the record the
// executor kept of a failed run (kept 10 days).
func (a *API) getExecution(c *call) error {
	id := c.r.PathValue("id")
	e, err := a.cfg.Repo.GetExecution(c.ctx(), c.tenant.Name, id)
	if err != nil {
		return repoError(err, whatExecution, id)
	}
	return rest.Resource[model.ActionExecution]{Render: renderExecution}.OK(c.w, e)
}
