/* main.c - tlstop: live decrypted TLS traffic of the processes on a node. */
#include <locale.h>
#include <stdlib.h>
#include <unistd.h>

#include "options.h"
#include "output.h"
#include "run.h"

int main(int argc, char **argv)
{
	struct options o;
	char *cause = NULL;
	int status;

	setlocale(LC_ALL, "");
	switch (options_parse(&o, argc, argv, stdout, &cause)) {
	case OPTIONS_EXIT:
		options_free(&o);
		return RUN_OK;
	case OPTIONS_ERROR:
		report(o.json, "error", "%s", cause ? cause : "out of memory");
		free(cause);
		options_free(&o);
		return RUN_USAGE;
	case OPTIONS_RUN:
		break;
	}
	if (!o.batch && !o.list_targets) {
		/* the interactive view is not written yet: say so once */
		report(false, "note",
		       isatty(STDOUT_FILENO) ?
			       "the interactive view is not available yet; printing one line per message (--batch)" :
			       "stdout is not a terminal; printing one line per message (--batch)");
		o.batch = true;
	}
	status = o.read_path ? run_replay(&o) : run_live(&o);
	options_free(&o);
	return status;
}
