/** The write-ahead log API the node uses for crash recovery; implementations live in mir-wal. */
package io.github.mirframework.wal;
