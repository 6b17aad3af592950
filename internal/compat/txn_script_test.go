package compat

import "context"

// The transaction commands of the client scripts (compat/python/common.py
// describes them).

func (d *scriptDriver) produceTransactions(ctx context.Context, topic, id string, txns []transaction) error {
	return d.run(ctx, topic, "produce_transactions", map[string]any{"id": id, "transactions": txns}, nil)
}

func (d *scriptDriver) consumeCommitted(ctx context.Context, topic string, partitions int32, want []record) ([]record, error) {
	var got []record
	err := d.run(ctx, topic, "consume_committed", map[string]any{"partitions": partitions, "want": want}, &got)
	return got, err
}

func (d *scriptDriver) transact(ctx context.Context, r txnRound) ([]record, error) {
	var got []record
	err := d.run(ctx, r.Input, "transact", r, &got)
	return got, err
}

func (d *scriptDriver) fence(ctx context.Context, topic, id string, f fencing) (fenced, err error) {
	var result struct {
		Fenced *kafkaError `json:"fenced"`
	}
	params := map[string]any{"id": id, "first": f.First, "late": f.Late, "second": f.Second}
	if err := d.run(ctx, topic, "fence", params, &result); err != nil {
		return nil, err
	}
	if result.Fenced == nil {
		return nil, nil
	}
	return result.Fenced, nil
}
