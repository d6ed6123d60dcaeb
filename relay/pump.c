/* pump.c - the loop both data paths drive their two directions with (path.h). */
#include "conn.h"
#include "path.h"

void path_pump(struct conn *c, path_step_fn up_step, path_step_fn down_step)
{
	enum path_step up, down;
	unsigned want;

	do {
		want = 0;
		up = up_step(c, &want);
		if (up == STEP_FINISHED)
			return;
		down = down_step(c, &want);
		if (down == STEP_FINISHED)
			return;
		if (up == STEP_PROGRESS || down == STEP_PROGRESS)
			c->last_progress = c->w->now;
	} while (up == STEP_PROGRESS || down == STEP_PROGRESS);

	if (c->up_done && c->down_done) {
		conn_finish(c, RESULT_OK, NULL);
		return;
	}
	conn_arm(c, want);
}
