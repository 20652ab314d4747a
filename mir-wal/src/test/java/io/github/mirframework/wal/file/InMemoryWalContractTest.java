package io.github.mirframework.wal.file;

import io.github.mirframework.event.PayloadRegistry;

/** The WAL contract for {@link InMemoryWal}: a restart is a new view over the same store. */
class InMemoryWalContractTest extends WalContractTest<InMemoryWal> {
  private final InMemoryWal.Store store = new InMemoryWal.Store();

  @Override
  protected InMemoryWal open(PayloadRegistry registry) {
    return InMemoryWal.open(store, registry);
  }
}
