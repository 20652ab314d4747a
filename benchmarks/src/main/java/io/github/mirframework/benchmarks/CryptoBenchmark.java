package io.github.mirframework.benchmarks;

import com.google.protobuf.ByteString;
import io.github.mirframework.crypto.Crypto;
import io.github.mirframework.crypto.CryptoEvents;
import io.github.mirframework.crypto.CryptoModule;
import io.github.mirframework.crypto.EcdsaCrypto;
import io.github.mirframework.crypto.EncodedKeyPair;
import io.github.mirframework.crypto.InsecureKeys;
import io.github.mirframework.crypto.Parallelism;
import io.github.mirframework.crypto.PseudoCrypto;
import io.github.mirframework.crypto.VerificationResult;
import io.github.mirframework.crypto.pb.NodeSigsVerified;
import io.github.mirframework.crypto.pb.SigVerItem;
import io.github.mirframework.event.EventList;
import io.github.mirframework.threshcrypto.RecoveryResult;
import io.github.mirframework.threshcrypto.TblsCrypto;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.io.IOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.params.ECPrivateKeyParameters;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.signers.ECDSASigner;
import org.bouncycastle.crypto.signers.HMacDSAKCalculator;
import org.bouncycastle.crypto.signers.StandardDSAEncoding;
import org.bouncycastle.crypto.util.PrivateKeyFactory;
import org.bouncycastle.crypto.util.PublicKeyFactory;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Signature throughput of mir-crypto against raw BouncyCastle in the same run (issue 4, item 5).
 *
 * <p><b>ECDSA P-256.</b> The {@code raw*} benchmarks do with BouncyCastle's lightweight API exactly
 * what a careful direct user would do, and what {@link EcdsaCrypto} does: SHA-256 of the message,
 * {@link ECDSASigner} with an RFC 6979 {@link HMacDSAKCalculator}, DER encoding (sign) or strict
 * DER decoding (verify), with the key objects decoded once and reused, so that BouncyCastle's
 * per-point precomputation is kept. Both sides use the same keys and messages and produce
 * byte-identical signatures (checked in setup). The {@code mir*} benchmarks go through {@link
 * EcdsaCrypto}, and {@code module*} through {@link CryptoModule#applyEvents} with one {@code
 * VerifyNodeSigs} event of {@value #BATCH} signatures from {@value #NODES} nodes (the result event
 * included). All verify benchmarks check the same {@value #BATCH} signatures and are reported per
 * signature.
 *
 * <p>{@code *_2threads} variants: the module with a {@link Parallelism} of 2 (the calling thread
 * plus one helper from a pool owned here), and raw BouncyCastle run by two JMH threads, which is
 * what two cores of this machine can do at best. Per-core figures are the 2-thread score divided by
 * 2. {@code moduleOverhead*} put the same batch through a module whose crypto checks nothing: the
 * module's own cost per signature. On a shared machine add {@code -prof
 * io.github.mirframework.benchmarks.CpuTimeProfiler} for rates per CPU-second.
 *
 * <p><b>TBLS</b> (BLS12-381 via jblst, 3-of-4): sign share, verify share, recover a full signature
 * from 3 shares (which includes one verification of the result), verify the full signature.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Benchmark)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g", "--enable-native-access=ALL-UNNAMED"})
public class CryptoBenchmark {
  static final int BATCH = 64;
  static final int NODES = 4;
  static final ModuleId CRYPTO = ModuleId.of("crypto");
  static final ModuleId ORIGIN = ModuleId.of("requester");

  /** Size of each signed message in bytes (one chunk). */
  @Param({"32", "256"})
  int messageBytes;

  private List<NodeId> nodes;
  private EcdsaCrypto crypto;
  private ECPrivateKeyParameters rawPrivate;

  // The batch: message k is signed by node k % NODES.
  private List<List<ByteString>> data;
  private ByteString[] signatures;
  private NodeId[] signers;
  private byte[][] rawMessages;
  private byte[][] rawSignatures;
  private ECPublicKeyParameters[] rawKeys;

  private ExecutorService helper;
  private CryptoModule moduleSequential;
  private CryptoModule moduleTwoThreads;
  private CryptoModule moduleNoOp;
  private CryptoModule moduleNoOpTwoThreads;
  private EventList verifyBatch;

  private List<TblsCrypto> tbls;
  private List<ByteString> tblsData;
  private List<ByteString> tblsShares;
  private ByteString tblsFull;

  private int next;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    nodes = new ArrayList<>();
    for (int i = 0; i < NODES; i++) {
      nodes.add(NodeId.of(Integer.toString(i)));
    }
    crypto = PseudoCrypto.create(nodes, nodes.get(0));
    ECPublicKeyParameters[] nodeKeys = new ECPublicKeyParameters[NODES];
    EcdsaCrypto[] signerCryptos = new EcdsaCrypto[NODES];
    for (int i = 0; i < NODES; i++) {
      EncodedKeyPair pair = InsecureKeys.keyPair(nodes.get(i), PseudoCrypto.DEFAULT_SEED);
      nodeKeys[i] =
          (ECPublicKeyParameters) PublicKeyFactory.createKey(pair.publicKey().toByteArray());
      signerCryptos[i] = PseudoCrypto.create(nodes, nodes.get(i));
    }
    rawPrivate =
        (ECPrivateKeyParameters)
            PrivateKeyFactory.createKey(
                InsecureKeys.keyPair(nodes.get(0), PseudoCrypto.DEFAULT_SEED)
                    .privateKey()
                    .toByteArray());

    Random random = new Random(42);
    data = new ArrayList<>();
    signatures = new ByteString[BATCH];
    signers = new NodeId[BATCH];
    rawMessages = new byte[BATCH][];
    rawSignatures = new byte[BATCH][];
    rawKeys = new ECPublicKeyParameters[BATCH];
    List<SigVerItem> items = new ArrayList<>();
    for (int k = 0; k < BATCH; k++) {
      byte[] m = new byte[messageBytes];
      random.nextBytes(m);
      data.add(List.of(ByteString.copyFrom(m)));
      signers[k] = nodes.get(k % NODES);
      signatures[k] = signerCryptos[k % NODES].sign(data.get(k));
      rawMessages[k] = m;
      rawSignatures[k] = signatures[k].toByteArray();
      rawKeys[k] = nodeKeys[k % NODES];
      items.add(CryptoEvents.sigVerItem(data.get(k), signatures[k], signers[k]));
    }

    helper = Executors.newFixedThreadPool(1, Thread.ofPlatform().daemon().factory());
    moduleSequential = new CryptoModule(crypto);
    moduleTwoThreads = new CryptoModule(crypto, Parallelism.using(helper, 2));
    moduleNoOp = new CryptoModule(new NoOpCrypto());
    moduleNoOpTwoThreads = new CryptoModule(new NoOpCrypto(), Parallelism.using(helper, 2));
    verifyBatch =
        EventList.of(CryptoEvents.verifyNodeSigs(CRYPTO, items, CryptoEvents.origin(ORIGIN)));

    tbls = TblsCrypto.keygen(3, nodes, TblsCrypto.DEFAULT_PSEUDO_SEED);
    tblsData = data.get(0);
    tblsShares = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      tblsShares.add(tbls.get(i).signShare(tblsData));
    }
    RecoveryResult recovered = tbls.get(0).recover(tblsData, tblsShares);
    if (!recovered.ok()) {
      throw new IllegalStateException("TBLS setup: " + recovered);
    }
    tblsFull = recovered.signature();

    selfCheck();
  }

  /** Both sides must do the same work: identical signatures, and everything verifies. */
  private void selfCheck() throws IOException {
    if (!Arrays.equals(rawSign(rawMessages[0]), crypto.sign(data.get(0)).toByteArray())) {
      throw new IllegalStateException("raw BC and EcdsaCrypto signatures differ");
    }
    for (int k = 0; k < BATCH; k++) {
      if (!rawVerifyOne(k) || !crypto.verify(data.get(k), signatures[k], signers[k]).valid()) {
        throw new IllegalStateException("signature " + k + " does not verify");
      }
    }
    for (CryptoModule m : List.of(moduleSequential, moduleTwoThreads)) {
      NodeSigsVerified r = (NodeSigsVerified) m.applyEvents(verifyBatch).get(0).payload();
      if (!r.getAllOk() || r.getValidCount() != BATCH) {
        throw new IllegalStateException("module verification failed: " + r);
      }
    }
    if (!tbls.get(1).verifyShare(tblsData, tblsShares.get(0), nodes.get(0)).valid()
        || !tbls.get(1).verifyFull(tblsData, tblsFull).valid()) {
      throw new IllegalStateException("TBLS self-check failed");
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    helper.shutdownNow();
  }

  /** The index of the next message to sign (sign benchmarks run on one thread). */
  private int nextIndex() {
    int k = next;
    next = (k + 1) % BATCH;
    return k;
  }

  // ---- ECDSA sign ----

  @Benchmark
  public ByteString mirSign() {
    return crypto.sign(data.get(nextIndex()));
  }

  @Benchmark
  public byte[] rawSign() throws IOException {
    return rawSign(rawMessages[nextIndex()]);
  }

  private byte[] rawSign(byte[] message) throws IOException {
    SHA256Digest sha = new SHA256Digest();
    sha.update(message, 0, message.length);
    byte[] digest = new byte[32];
    sha.doFinal(digest, 0);
    ECDSASigner signer = new ECDSASigner(new HMacDSAKCalculator(new SHA256Digest()));
    signer.init(true, rawPrivate);
    BigInteger[] rs = signer.generateSignature(digest);
    return StandardDSAEncoding.INSTANCE.encode(rawPrivate.getParameters().getN(), rs[0], rs[1]);
  }

  // ---- ECDSA verify, per signature ----

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public int rawVerify() throws IOException {
    int ok = 0;
    for (int k = 0; k < BATCH; k++) {
      ok += rawVerifyOne(k) ? 1 : 0;
    }
    return ok;
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  @Threads(2)
  public int rawVerify_2threads() throws IOException {
    return rawVerify();
  }

  private boolean rawVerifyOne(int k) throws IOException {
    ECPublicKeyParameters key = rawKeys[k];
    BigInteger[] rs =
        StandardDSAEncoding.INSTANCE.decode(key.getParameters().getN(), rawSignatures[k]);
    byte[] m = rawMessages[k];
    SHA256Digest sha = new SHA256Digest();
    sha.update(m, 0, m.length);
    byte[] digest = new byte[32];
    sha.doFinal(digest, 0);
    ECDSASigner verifier = new ECDSASigner();
    verifier.init(false, key);
    return verifier.verifySignature(digest, rs[0], rs[1]);
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public int mirVerify() {
    int ok = 0;
    for (int k = 0; k < BATCH; k++) {
      ok += crypto.verify(data.get(k), signatures[k], signers[k]).valid() ? 1 : 0;
    }
    return ok;
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public EventList moduleVerify() throws Exception {
    return moduleSequential.applyEvents(verifyBatch);
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public EventList moduleVerify_2threads() throws Exception {
    return moduleTwoThreads.applyEvents(verifyBatch);
  }

  /**
   * The module's own cost per signature: the same batch through a {@link CryptoModule} whose crypto
   * accepts everything without looking.
   */
  @Benchmark
  @OperationsPerInvocation(BATCH)
  public EventList moduleOverhead() throws Exception {
    return moduleNoOp.applyEvents(verifyBatch);
  }

  /** Like {@link #moduleOverhead()}, with the hand-off to a helper thread for every batch. */
  @Benchmark
  @OperationsPerInvocation(BATCH)
  public EventList moduleOverhead_2threads() throws Exception {
    return moduleNoOpTwoThreads.applyEvents(verifyBatch);
  }

  /** Signs nothing and accepts every signature: isolates the module's overhead. */
  private static final class NoOpCrypto implements Crypto {
    @Override
    public ByteString sign(List<ByteString> data) {
      return ByteString.EMPTY;
    }

    @Override
    public VerificationResult verify(List<ByteString> data, ByteString signature, NodeId nodeId) {
      return VerificationResult.ok();
    }
  }

  // ---- TBLS (3 of 4) ----

  @Benchmark
  public ByteString tblsSignShare() {
    return tbls.get(0).signShare(tblsData);
  }

  @Benchmark
  public boolean tblsVerifyShare() {
    return tbls.get(1).verifyShare(tblsData, tblsShares.get(0), nodes.get(0)).valid();
  }

  @Benchmark
  public RecoveryResult tblsRecover() {
    return tbls.get(3).recover(tblsData, tblsShares);
  }

  @Benchmark
  public boolean tblsVerifyFull() {
    return tbls.get(3).verifyFull(tblsData, tblsFull).valid();
  }
}
