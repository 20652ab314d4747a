/**
 * Implementation details of mir-crypto shared by its packages. Not an API: anything here may change
 * without notice.
 */
package io.github.mirframework.crypto.internal;
