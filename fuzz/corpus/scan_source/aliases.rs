use secret_runtime::secret as declare;
static A: Secret = declare!("A");
/// doc
static B: Secret = secret_runtime::secret!("B");
macro_rules! m { () => { secret!("C") } }
