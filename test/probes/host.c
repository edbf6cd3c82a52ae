/*
 * Test host for the probe library (test/probes/probes.rs): stands in for
 * the PostgreSQL backend. It loads the library with dlopen, runs each named
 * probe and prints "<name> <result>" per probe, then "host-survived".
 *
 *   host [--fork] <library.so> <workdir> <probe-name>...
 *
 * The result is the probe's return value (0 worked, 1 error, 2 panic caught).
 * With --fork each probe runs in a child process, for probes that end the
 * process on an unrestricted std; a child that ends without returning prints
 * "ended-exit-<status>" or "ended-signal-<number>".
 *
 * The host keeps a TCP listener open on 127.0.0.1 so a connect probe has
 * something to reach without network access.
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* The restricted std's abort path calls this (docs/ABI.md). PostgreSQL's handler
   ends the session with FATAL; this host reports it and exits the same way. */
void plrust_host_fatal(const unsigned char *msg, size_t len) {
    printf("fatal %.*s\n", (int)len, (const char *)msg);
    fflush(stdout);
    _exit(70);
}

typedef int (*probe_fn)(void);
typedef void (*configure_fn)(const char *workdir, unsigned short port);

static unsigned short open_listener(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &len) != 0) {
        perror("host: listener");
        exit(3);
    }
    return ntohs(addr.sin_port);
}

static void run_forked(const char *name, probe_fn probe) {
    int pipefd[2];
    if (pipe(pipefd) != 0) {
        perror("host: pipe");
        exit(3);
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        perror("host: fork");
        exit(3);
    }
    if (pid == 0) {
        close(pipefd[0]);
        int result = probe();
        if (write(pipefd[1], &result, sizeof result) != (ssize_t)sizeof result) _exit(4);
        _exit(0);
    }
    close(pipefd[1]);
    int result, status;
    ssize_t got = read(pipefd[0], &result, sizeof result);
    close(pipefd[0]);
    waitpid(pid, &status, 0);
    if (got == (ssize_t)sizeof result)
        printf("%s %d\n", name, result);
    else if (WIFSIGNALED(status))
        printf("%s ended-signal-%d\n", name, WTERMSIG(status));
    else
        printf("%s ended-exit-%d\n", name, WEXITSTATUS(status));
}

int main(int argc, char **argv) {
    int fork_each = argc > 1 && strcmp(argv[1], "--fork") == 0;
    int first = fork_each ? 2 : 1;
    if (argc < first + 2) {
        fprintf(stderr, "usage: %s [--fork] <library.so> <workdir> <probe-name>...\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);

    void *lib = dlopen(argv[first], RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        fprintf(stderr, "host: dlopen: %s\n", dlerror());
        return 3;
    }
    configure_fn configure = (configure_fn)dlsym(lib, "probe_configure");
    if (configure == NULL) {
        fprintf(stderr, "host: probe_configure missing\n");
        return 3;
    }
    configure(argv[first + 1], open_listener());

    for (int i = first + 2; i < argc; i++) {
        char symbol[256];
        snprintf(symbol, sizeof symbol, "probe_%s", argv[i]);
        probe_fn probe = (probe_fn)dlsym(lib, symbol);
        if (probe == NULL) {
            printf("%s missing\n", argv[i]);
            continue;
        }
        if (fork_each)
            run_forked(argv[i], probe);
        else
            printf("%s %d\n", argv[i], probe());
    }
    printf("host-survived\n");
    return 0;
}
