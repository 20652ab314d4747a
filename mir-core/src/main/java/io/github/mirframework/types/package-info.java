/**
 * Small value types used throughout Mir-Java: identifiers of nodes, modules and clients, and the
 * numbers of the protocols (sequence, epoch, request, view numbers, retention indices). All are
 * immutable and validate their input.
 */
package io.github.mirframework.types;
