package crossaccount

import "sync"

// queue feeds a fixed set of workers from tasks that may enqueue more tasks. It is unbounded, so a running task never
// blocks on enqueueing. Follow-up work of accounts already started goes
// first, so accounts finish (and their memory goes) before new ones begin.
type queue struct {
	mu       sync.Mutex
	cond     *sync.Cond
	urgent   []func()
	fresh    []func()
	inFlight int // tasks queued or running, plus open producers
}

func newQueue() *queue {
	q := &queue{}
	q.cond = sync.NewCond(&q.mu)
	return q
}

func (q *queue) push(task func(), urgent bool) {
	q.mu.Lock()
	if urgent {
		q.urgent = append(q.urgent, task)
	} else {
		q.fresh = append(q.fresh, task)
	}
	q.inFlight++
	q.mu.Unlock()
	q.cond.Signal()
}

// hold keeps the queue open for a producer that has not pushed everything yet; release ends it.
func (q *queue) hold() { q.mu.Lock(); q.inFlight++; q.mu.Unlock() }

func (q *queue) release() {
	q.mu.Lock()
	q.inFlight--
	done := q.inFlight == 0
	q.mu.Unlock()
	// New work wakes a worker in push; only the end of all work needs every waiting worker to hear of it.
	if done {
		q.cond.Broadcast()
	}
}

// next blocks for the next task; ok is false when nothing is queued, running or still to be produced.
func (q *queue) next() (task func(), ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.urgent) == 0 && len(q.fresh) == 0 {
		if q.inFlight == 0 {
			return nil, false
		}
		q.cond.Wait()
	}
	if n := len(q.urgent); n > 0 {
		task = q.urgent[n-1]
		q.urgent[n-1] = nil
		q.urgent = q.urgent[:n-1]
	} else {
		task = q.fresh[0]
		q.fresh[0] = nil
		q.fresh = q.fresh[1:]
	}
	return task, true
}
