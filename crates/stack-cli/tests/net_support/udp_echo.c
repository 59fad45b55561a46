/* A UDP echo server for the published-port test: busybox has no UDP
 * server, so the test compiles this one statically into the rootfs.
 * Usage: udp-echo PORT */
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>

int main(int argc, char **argv) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in at = {0};
    at.sin_family = AF_INET;
    at.sin_port = htons(argc > 1 ? atoi(argv[1]) : 7);
    if (s < 0 || bind(s, (struct sockaddr *)&at, sizeof at) != 0)
        return 1;
    for (;;) {
        char buf[2048];
        struct sockaddr_in from;
        socklen_t len = sizeof from;
        ssize_t n = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &len);
        if (n >= 0)
            sendto(s, buf, n, 0, (struct sockaddr *)&from, len);
    }
}
