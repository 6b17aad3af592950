package nexmark

import model "github.com/weir-io/weir/flow/nexmark"

// What a query's topology has written once its input has ended, by
// flow/nexmark's reference queries at model.EndOfInput.
//
// At the end of input (TestDriver.EndInput, or a task in batch mode that
// has read all its input) flow moves each sub-topology's watermark to the
// end of time, upstream sub-topologies first: every window closes and its
// EmitFinal result goes on to the next stage, which closes its windows in
// turn; every event-time timer fires. So:
//
//   - q5, q7 and q8 emit every window that holds a record, as the
//     references do with every window closed;
//   - the winning-bids processor of q4 and q6 closes every auction it
//     holds, those that expire after the last event included (their
//     timers, at Expires plus the grace, fire at the end of time), with
//     the best bid it has taken: a bid made while the auction was open,
//     at or above the reserve, as model.WinningBids with every auction
//     closed. Bids still waiting for an auction that never came are
//     dropped, as the reference ignores bids without an auction. (A bid
//     that comes more than the grace after its auction closed is dropped
//     in flow and counted by the reference: a grace that covers the
//     input's disorder rules it out, as for the streaming answer.)
//   - q0 to q3 close nothing: their answer is the same as while running.
//
// Unlike the streaming answer (expected.go), this one does not follow
// the watermarks the stages reached: whatever they were, the end closes
// everything. The graces must still cover the input's disorder (and with
// several partitions their drift), or late records are dropped.

func atEndQ0(events []model.Event) []string { return format(model.Q0(events)) }
func atEndQ1(events []model.Event) []string { return format(model.Q1(events)) }
func atEndQ2(events []model.Event) []string { return format(model.Q2(events)) }
func atEndQ3(events []model.Event) []string { return format(model.Q3(events)) }
func atEndQ4(events []model.Event) []string { return format(model.Q4(events, model.EndOfInput)) }
func atEndQ5(events []model.Event) []string { return format(model.Q5(events, model.EndOfInput)) }
func atEndQ6(events []model.Event) []string { return format(model.Q6(events, model.EndOfInput)) }
func atEndQ7(events []model.Event) []string { return format(model.Q7(events, model.EndOfInput)) }
func atEndQ8(events []model.Event) []string { return format(model.Q8(events, model.EndOfInput)) }
