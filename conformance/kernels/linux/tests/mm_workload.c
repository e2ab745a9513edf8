/* A real program for the recorder test: it makes every memory syscall `vmref record`
 * understands, in one thread and two processes, so ctest can record it on the machine
 * it runs on and replay the result against the model. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static void* thread_main(void* arg) {
  (void)arg;
  char* p = mmap(NULL, 8 << 12, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return NULL;
  memset(p, 1, 8 << 12);
  munmap(p, 8 << 12);
  return NULL;
}

int main(void) {
  long pg = sysconf(_SC_PAGESIZE);
  char* a = mmap(NULL, 16 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (a == MAP_FAILED) return 1;
  memset(a, 7, 16 * pg);
  mprotect(a + 4 * pg, 4 * pg, PROT_READ);            /* three-way split */
  mprotect(a + 4 * pg, 4 * pg, PROT_READ | PROT_WRITE); /* and merged back */
  madvise(a, 2 * pg, MADV_DONTNEED);
  madvise(a + 8 * pg, 2 * pg, MADV_DONTFORK);
  madvise(a + 12 * pg, 2 * pg, MADV_WIPEONFORK);
  mlock(a + 14 * pg, pg);
  munlock(a + 14 * pg, pg);
  char* b = mremap(a + 10 * pg, 2 * pg, 6 * pg, MREMAP_MAYMOVE); /* grows or moves */
  if (b == MAP_FAILED) return 2;
  b[5 * pg] = 1;
  char* s = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  s[0] = 1;
  void* top = sbrk(0);
  if (brk((char*)top + 3 * pg) != 0) return 3;
  pthread_t t;
  if (pthread_create(&t, NULL, thread_main, NULL) == 0) pthread_join(t, NULL);
  pid_t kid = fork();
  if (kid == 0) {
    s[1] = 2;
    execl("/bin/true", "true", (char*)NULL);
    _exit(127);
  }
  int st = 0;
  waitpid(kid, &st, 0);
  munmap(b, 6 * pg);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 4;
}
