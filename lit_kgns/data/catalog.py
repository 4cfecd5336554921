"""The dataset catalog: every benchmark by name, where its files live and how to build it.

``load_dataset(name, root)`` looks for the dataset's folder under the data root (``root``, else
``$LIT_KGNS_DATA``, else the user cache directory). Nations, Kinship and UMLS need no data root: when the
root has no folder of that name they are read from the copies bundled with the installed ``pykeen``
package. A missing folder of a dataset with a known public source is downloaded file by file from
commit-pinned GitHub URLs, each file checked against its sha256 before it is moved into place.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from lit_kgns.data.download import DownloadError, download_file, safe_extract, sha256_of
from lit_kgns.data.graph import KGDataset
from lit_kgns.data.root import DATA_ROOT_ENV, resolve_data_root
from lit_kgns.data.splits import (
    HM_FILES,
    ILPC_FILES,
    INGRAM_FILES,
    MTDEA_FILES,
    InductiveFiles,
    grail_inductive,
    hm_inductive,
    inference_graph_inductive,
    mtdea_inductive,
    transductive,
)

__all__ = [
    "DataFile",
    "DatasetEntry",
    "DatasetNotFoundError",
    "available_datasets",
    "dataset_folder",
    "get_entry",
    "load_dataset",
]


class DatasetNotFoundError(FileNotFoundError):
    """A dataset's files are neither under the data root nor obtainable from a known source."""


@dataclass(frozen=True)
class DataFile:
    """One file of a dataset: its path inside the dataset folder, inside the source, and its sha256."""

    local: str
    remote: str
    sha256: str


@dataclass(frozen=True)
class DatasetEntry:
    """A catalog entry.

    ``folder`` is relative to the data root; ``files`` are the files the builder reads (relative to
    ``folder``). With ``base_url`` set, a missing file is fetched from ``base_url + remote``, or, when
    ``archive`` is set, extracted from the tarball ``base_url + archive`` (sha256 ``archive_sha256``).
    ``embedded`` names a folder of the installed ``pykeen`` package holding a byte-identical copy.
    """

    name: str
    setting: str
    folder: str
    files: tuple[DataFile, ...]
    build: Callable[[str, Path], KGDataset] = dataclasses.field(repr=False)
    base_url: str | None = None
    archive: str | None = None
    archive_sha256: str | None = None
    embedded: str | None = None
    description: str = ""

    def url(self, remote: str) -> str:
        if self.base_url is None:
            raise DatasetNotFoundError(f"dataset {self.name!r} has no download source")
        return self.base_url + remote


_GITHUB = "https://raw.githubusercontent.com/"
_CONVE = _GITHUB + "TimDettmers/ConvE/f3c0eb286025410fa5b4c04696c918264163d0ca/"
_GRAIL = _GITHUB + "kkteru/grail/2a3dffa719518e7e6250e355a2fb37cd932de91e/data/"
_CODEX = _GITHUB + "tsafavi/codex/3132e426c2a6b643b70bad679905a3a6270be440/data/triples/"
_ILPC = _GITHUB + "pykeen/ilpc2022/3d0166dc78a91c6f9075e988f7ddaa68b10f3704/data/"
_INGRAM = _GITHUB + "bdi-lab/InGram/f2554dd0c684bad71d3e01d534f2f7814cf28644/data/"
# ULTRA downloads MTDEA from an S3 zip; SEMMA commits ULTRA's unpacked raw/ folders byte for byte
_MTDEA = _GITHUB + "arvindh75/semma/ed525ac19085e61a66f6a3acfdf86e29fa3e5841/takeaway3/mtdea/"
_INDIGO = _GITHUB + "shuwen-liu-ox/INDIGO/ad1b20bb290d28cf8a19357ea059077248e25d45/data/"

# sha256 of the tarballs in TimDettmers/ConvE (their md5 sums match the ones in PROVENANCE.md)
_CONVE_ARCHIVES = {
    "FB15k-237.tar.gz": "311df7930f842a02979eaa7a802484a6afe62303c07f915f1e6edbc30cbe05e8",
    "WN18RR.tar.gz": "1eb9152f804c140d163462c0d49f65e5a0b30ab5fbb375c5e3353c11a6249060",
    "nations.tar.gz": "feb3e3e027103089934ea7dfb67d2048d8a43e65d6757a86f2e037acb66f640b",
    "kinship.tar.gz": "a3cb9ca67213eb38133aebc12901195e283d844ebd59f1a6cbf2d4fa12ced4e6",
    "umls.tar.gz": "26223aa91f0ec8db2324e0f489b9a4425e04d1d0df72ce5cfd62af4b91aee6fd",
}

# sha256 of every file the builders read, as `sha256sum` prints it (computed from byte-identical copies)
_SHA256SUMS = """
64f93b7f314f3936a6f65739721429db3f6a7c8f5a1e1104ec3bb544f7434f59  codex-s/train.txt
3831c0e57daef03c3a18cdd1a72e370b496f696c5218883d35c7d2ab8a6a772c  codex-s/valid.txt
27127fcb34688c4778e88a39ef3c9b540807da846021e9d9685660ac1838aca1  codex-s/test.txt
d99c3437ab51690391a26d96976adf6e5494dba7ef6902e77000551bfa566556  codex-m/train.txt
11c323096367354940846b9ed940c5dabddc1d20a70474222babe7e7fd28b28d  codex-m/valid.txt
0575ce05e4ce915e395bb4f708e8df9547989dd4c8c71407cbfd78c19daffcf7  codex-m/test.txt
21f9f731c3128b50f8392ce1aa0a5d0bd5c24fa16f141e3110e32b63049189c2  ilpc2022_small/inference.txt
c256b4a5359649a708047d5c429e484ba808c7b28c2f7c91844fcb4a0e962b01  ilpc2022_small/inference_test.txt
a11e244f066e8bad85ec6e684e1249bf6e5c2ae98b3e02c4a6e15f476ebfa908  ilpc2022_small/inference_validation.txt
7d522a71de14d8dcd686906ed0c9f589ba4e71171367814a115d4bc0ad3ef06b  ilpc2022_small/train.txt
6b6257779ff6aded428d64b3b70620e85bc67cbaec9dd385bd785bce904a1fbf  ingram_nl_0/msg.txt
011b8161eab4a8daee93f9e45b3f745fcfd7ef4f9e1320dffdb28da27d625f32  ingram_nl_0/test.txt
e3451ba717aa7366e52ac994398350d769d181e8bced30b6bb54e2315092794e  ingram_nl_0/train.txt
d4c3e30d3d782663daaaf0e6c5fb690ba5db77e5220805c5efc6b3c84e0d4c20  ingram_nl_0/valid.txt
15a8c2279787e7f34b970dc2ad6e795a2fd87b64b3a98c9d1671b81970dcdddf  ingram_nl_100/msg.txt
26e7a862aa409d51c9abdd95a0064ca8942a2d49daa106c6446b0ed306f17df2  ingram_nl_100/test.txt
db0e8a2709235cc0ea5e2acac0b832617ebf1c23e8a5ee7c28d114f840c5622e  ingram_nl_100/train.txt
039547e15c5aa4d0d7e5fd6514482c1fdba4ee6143091ebf7b90c4f0f2a291aa  ingram_nl_100/valid.txt
23e288c0b916f10f4c8208fc669701228070e48933c56107f08a16bfc625b1be  ingram_nl_25/msg.txt
f29d434e03b0523fecfbd0eb9cd611083e96d7261b8449d0b081e9cce4d0cde1  ingram_nl_25/test.txt
7a3ccb49ad79d4c75a325702760ea681411027f052d9767c5cf00ac3f0297afe  ingram_nl_25/train.txt
6c1318bd6e71921e06c9fb31e3546a691a51cbf8b2fefdfc6d6bb6a5feeb145b  ingram_nl_25/valid.txt
9c22f71be0711e9fadba6588b0a966222353352a08bd681588f369e6dfdb2d20  ingram_nl_50/msg.txt
e61280a0ff3d228d4785aeffdc919c5526fab34e5e23054abb4d500245d65c54  ingram_nl_50/test.txt
7a3ccb49ad79d4c75a325702760ea681411027f052d9767c5cf00ac3f0297afe  ingram_nl_50/train.txt
cf3e702a87eb28254909f2f5d92298676619eda3f4d5235c9aa003650b338050  ingram_nl_50/valid.txt
91b8e1d02aafc2522c6e4b98f7f5a51744a531c40f7d8155332ae5fecd2d4c61  ingram_nl_75/msg.txt
a4390ce759fd864e09b53e97c774b1be5da29132fb0e1c7a36e28246a01fab38  ingram_nl_75/test.txt
6c145bafe2dceb966c0e1c703b52d749a05e361c546feb7486b5cd85d12a7697  ingram_nl_75/train.txt
59e4621678dd7c15af59b79d057f1333fee08e8de78ce79b3f0a063b9a2d5c8c  ingram_nl_75/valid.txt
04f6d4b91d1fa2cd85c7d564638edda964ceebe8836ec7b504a9a64e5a7ddb6f  mtdea_fbnell/inf_test.txt
a57f370091981c3626deb4346495ccfaf272e5d432fae1df93bb81f3f19467c3  mtdea_fbnell/inference_graph.txt
3055e3da639aff4e4fc1ad449536ab332af1647666bdfbc0ad7ebb24f349d217  mtdea_fbnell/transductive_train.txt
75aaeae03a821a587e30606d82e02cc82577b3e1bc0f3d2ae746969e7b663100  mtdea_fbnell/transductive_valid.txt
55fca89c4fdbc4676ce91cb88280c046b6a5064e21ca31b61517a1e624e826e2  mtdea_metafam/inf_test.txt
beca204df2dee026b973767445026324480b6305373bfcedcccef678cc2c5026  mtdea_metafam/inference_graph.txt
5cf69bb79a79da4e2b94bdcb1c8c17557ea26faa276b8175092b65a1f7662d13  mtdea_metafam/transductive_train.txt
79158059809d639381d1959234a7dfab3fa7dfab050cce389b2409f365ed14c3  mtdea_metafam/transductive_valid.txt
f05f2c99e9f5a0768f444122c6cadab329cae8bd161ff9c9ee821bb5e81c80a0  hm_1k/test-fact.txt
dba2a58a1879ca9a27931997a117b7061a46ea3648ede86b99710b85dad221e8  hm_1k/test-graph.txt
61a48533dc54dcc070a53a9543ae045bb673d5a2c77f3cfc28dc3f13c1c43646  hm_1k/train.txt
643f7115b22d7917adda03b734fa71d8c3a7e65da0811b4c54b29818de4f2dbe  hm_1k/valid.txt
262ca5ae5ed3aa1927026e0f258cc52b10830185b93465b93b9360727e719158  countries_S1/test.txt
5256bf3fc4181d7e87d819571e3acfa5425fc5af365b9ebe5c113740534ca561  countries_S1/train.txt
f4b27648148a44f87e627140ec3a02ca4c884c32d348591147ca72f1d6fff5b0  countries_S1/valid.txt
262ca5ae5ed3aa1927026e0f258cc52b10830185b93465b93b9360727e719158  countries_S2/test.txt
84c8f310fa076f902760f0909716b13bc0853a105ab9e0145e4e5135d855f68a  countries_S2/train.txt
f4b27648148a44f87e627140ec3a02ca4c884c32d348591147ca72f1d6fff5b0  countries_S2/valid.txt
262ca5ae5ed3aa1927026e0f258cc52b10830185b93465b93b9360727e719158  countries_S3/test.txt
80a8e3a26aff58b78fd5a453ec2a37591466bad621df8d05185f26763b663a0c  countries_S3/train.txt
f4b27648148a44f87e627140ec3a02ca4c884c32d348591147ca72f1d6fff5b0  countries_S3/valid.txt
5711cf41623ceb4eacc50eb6108a3ca6565c7492e3caaf82a3e355cc660d1574  fb15k-237/test.txt
6e4c2782169af21e9743f3b1d200886f5d595bf6bc504ec1351720949c5cdfae  fb15k-237/train.txt
cf6309010852f6a8d47a45df830a426415d1ee6f7a3970a8376ff1fb81db4a5c  fb15k-237/valid.txt
0383bceaaa1096cf3c03ec021ed0048068e2355dbfc0239b292cefdac821cec5  wn18rr/test.txt
038612e783c215ee5f3ca9fbfca27b8d0739be1028fe4ee7c174aecf0b83d5df  wn18rr/train.txt
453ce7202afa58094a04d2b1560ee2b02660f1c260b32ce6651c8ccedd1028ab  wn18rr/valid.txt
3971085165b47b6aeaec68058c6d8d98b3005e929db81268410b95ae4db770ab  nations/test.txt
0830fa9da8e5bba2ccdaa45b7bdc9130451ba66b09ff2708f35fccaf82473e57  nations/train.txt
2b337a62e51a2f45c283eac98a70d21b7e0e102136be1539b2a52c652a7b0530  nations/valid.txt
05e5733265761d55be9c05bfaff5a8d0808df46f9c1e9d66cc3f2fe114e43d88  kinship/test.txt
738612111a6acf0e39662bde24c7e72a4d1edf20931beea077da367dda689731  kinship/train.txt
c56f8630a583178b1e569f11a64aa535ae1ce0b0912d8b1e24716be2b37f04da  kinship/valid.txt
a7eb529a3d2810fcc96341ccc97c625a5e202f8389673aa6bd317eeebbb79014  umls/test.txt
873ef4925516b83e7f6f8cc02b4be51d848828710a7f65a956f0ac4a9e452f35  umls/train.txt
025c98f8a4891e2a6582ec5b40ee0d904031edad9c52554522f4b7904820c98e  umls/valid.txt
4cc72d4fdcc8206e208e1f59f3c778be5de4a68cfe76776d15245b0d2c08d396  grail_inductive/WN18RR_v1/train.txt
7d1b73c5994e9aa816b34e33ee10707656803ba6b8a0f6066cae7ddc04f87553  grail_inductive/WN18RR_v1_ind/train.txt
a14a902df92e32f4aeb65761560072a007ae915308bb8a7a03c58dc1e9c2a9ad  grail_inductive/WN18RR_v2/train.txt
8dc9bb459e6306737a083b15698ed1420ce8dc57e27f8a42ab7b90c26dfc5154  grail_inductive/WN18RR_v2_ind/train.txt
324a2b04b621bfe8d2dd98ad1c585fbc7efefb1548e92b5d10afc08733286aa7  grail_inductive/WN18RR_v3/train.txt
85b817c364d097793a4b0969fa49d20167345256bf812c978bff381ad3aef492  grail_inductive/WN18RR_v3_ind/train.txt
5eace2cdfdffb2b19c6d27c7527ae79b8f4b1b3fb712d9a5049243a13edb95ca  grail_inductive/WN18RR_v4/train.txt
d5608132dab5873666e249c1de9412608c0e0b2cc0d154b0ffceff1ce067cc03  grail_inductive/WN18RR_v4_ind/train.txt
74ef3120fe38a22e5131064d23108b88a8d339496057fa8467d80dcda8f1cec1  grail_inductive/fb237_v1/train.txt
049829f7047ecf0e0bff0769efca31bc7f811f760c4ffcb20a5680f789b00c61  grail_inductive/fb237_v1_ind/train.txt
542f81af46d6727979278643105ba7c236dd8b29ee5d9962e3c3fa295ab8869c  grail_inductive/fb237_v2/train.txt
6756f8d4aa688bc1a18c1106117a7fde94e0469f223f5d00954846afce471e54  grail_inductive/fb237_v2_ind/train.txt
0f27b7f00d3e34964450c22445d17f7612d12d7c382caa3317f45bfe7465f299  grail_inductive/fb237_v3/train.txt
2805f9237816f5bb5bb1ff1fbc3d37cc0beb99047bef3a6bd82cc1f6947e8525  grail_inductive/fb237_v3_ind/train.txt
b9fa0f2650a1ab7687e21e0aec24bb51c0b0eacf0d88c8780c03c9b201b9148d  grail_inductive/fb237_v4/train.txt
ef55c03e05d5eeeec97fe2030e92bc36bd5ee9311b770ae0a3fd812982686e8d  grail_inductive/fb237_v4_ind/train.txt
d2b5d535ace4d1e3a18e69176e84a3ada1ca62fb4a647a12c4222781b91615ba  grail_inductive/nell_v1/train.txt
b0bfb66f65d70586a26703eb022926a75c1f234d1bcdeafe2e8d387be41291ee  grail_inductive/nell_v1_ind/train.txt
850a117e29126fd2e8d9d4ddb3430ee540c7ed2999142fb0fd9d7195204ce0a1  grail_inductive/nell_v2/train.txt
d92470e3e07f354e665ee9cc5c4e0fb99ff8e6414839f340607be32e7709aef4  grail_inductive/nell_v2_ind/train.txt
88507ad17277d91d1a6d55d5b6ad4661a4b00bb7087923794a8cac820944dd73  grail_inductive/nell_v3/train.txt
08f161d7a842bdfef4394222b00996fc657cf9d8c8fabf73cfaf42c41a44b20c  grail_inductive/nell_v3_ind/train.txt
00302276571b80a910582d00a20041d4ac8026ca4bbe457de8143e8ecb339d23  grail_inductive/nell_v4/train.txt
30ccc157815e5176bb2fda0f625dd1d71ed5b2fdc3c30484d0b9593e18be2c66  grail_inductive/nell_v4_ind/train.txt
5cebd29da8ada35ac73b6875329884cdf83943ddea454e9f70cc43b423ea479b  grail_inductive/WN18RR_v1/valid.txt
cfa28b9d75dbab17ea82a9443a5bf8acb738e60267cc63f8a221b38967e1d238  grail_inductive/WN18RR_v1_ind/valid.txt
2d3f6703d87fe1605f636736f0e848d9750b8e1593bd41101554ecbb41a1d836  grail_inductive/WN18RR_v2/valid.txt
fc32db7cb56dba0ff05bf57efd8a2279f0825dc6ae763c9d32281a9a1373c09a  grail_inductive/WN18RR_v2_ind/valid.txt
7f008df4879d36ef70a5c5eb58a7c87488c3f1fea606ab484e66a1aff89b0cbc  grail_inductive/WN18RR_v3/valid.txt
c0876dafce4cef4c6ef1aa53457fb9f4e40a31a8bf9edbaf05389bfe5ba26f43  grail_inductive/WN18RR_v3_ind/valid.txt
ca1568ca934bbf5ccfeabb3a67010968433c0e5bc1df9b0d3d48279023abd7bd  grail_inductive/WN18RR_v4/valid.txt
0928c5cb528ebde49a3be13f3df4d863f95312c247854bea556c65008cc5b54c  grail_inductive/WN18RR_v4_ind/valid.txt
d4c2698d7dc36c0dc39ffb3d810caeafe530d779bf9f6451fac2027f41c2ff6d  grail_inductive/fb237_v1/valid.txt
ac817123c4177ef46b08a3802380a355282b99d4283c43474c9dd91c082107dd  grail_inductive/fb237_v1_ind/valid.txt
59e07dcb883b28bb35585ba95576e4ebb2a71ddbc906119abcc4c87b28198d0c  grail_inductive/fb237_v2/valid.txt
2c3b4430cac899b868c9dd22ece0eae830ca62c8a6c0bf8610c670bbeaf7d6d8  grail_inductive/fb237_v2_ind/valid.txt
8b034e73fe64af9c7baf1e12704a94e7e9a9e6b9242feb498c69ebd65bccf269  grail_inductive/fb237_v3/valid.txt
76f7691aa597d43d704af047d01a5f4d266c02733c52a5c340c2bea4a85dd281  grail_inductive/fb237_v3_ind/valid.txt
d99dedcd13bc0cd338a299a895685b66f15e0b7ed42477d40f1ad1a65ce6d483  grail_inductive/fb237_v4/valid.txt
0a237c20719267449388e1d43995ccf67da5a3c82085ba5d2e3996c77dc73921  grail_inductive/fb237_v4_ind/valid.txt
d11d6de249ff1185e701536a7d63f0c997cf7cce2646f3d17c06ecc885835726  grail_inductive/nell_v1/valid.txt
297c1c82c944bd76255f6ad4cc22f5ecbb23c9daac366e8991b5770ca0dfb8fc  grail_inductive/nell_v1_ind/valid.txt
deb8b4c65548da49f3d8a1a171dbfa106de8b38d6747d38486ced4d324d3a600  grail_inductive/nell_v2/valid.txt
efcd59a03cb9a345f35ce7139c4817bc632143325394b474278b75568fe0808f  grail_inductive/nell_v2_ind/valid.txt
23313dcf7951a8cfc12b7d0c4bc84e5119024b1342d5ca5c042f38bab6cf9d71  grail_inductive/nell_v3/valid.txt
0be937cd2ed452b950b4eadd7f306960004a334fdd478f4f68172fec86596daa  grail_inductive/nell_v3_ind/valid.txt
f5dfc264c150172225a519f67a3a2821635ef7d19d4ab45a179572ac8749fa6a  grail_inductive/nell_v4/valid.txt
3f1e61b8e446c684787bed333578c9c9af8d917e1e2277ae051d19d5710b727f  grail_inductive/nell_v4_ind/valid.txt
6df8c00a2e0cf1a4b484ac638c081198926fcbc411ce2e12ccc79d432eead269  grail_inductive/WN18RR_v1_ind/test.txt
3b3942ce7665f1a6667721f5eab946bde79a5929f1996c5af16e0b092a5084bb  grail_inductive/WN18RR_v2_ind/test.txt
efad21a11c1cf26a1a4a5fcf7a64c585ccde3c4f8f71de3a00a995d9e8c9938d  grail_inductive/WN18RR_v3_ind/test.txt
10ccff353175e6eaaff0b3d7ef7931115845868653ddba0ba6fb5c8dfdab6364  grail_inductive/WN18RR_v4_ind/test.txt
c79d39372be30a3864cfe5094b3022f38b57d88c351dbbfa2d9e7f3368ac23aa  grail_inductive/fb237_v1_ind/test.txt
17c16e008cb6dfdc67ef0f375aab0a8fee2b087c7d687a72f5217b789d0c4a10  grail_inductive/fb237_v2_ind/test.txt
7dbd4d74210ffd5029d95327639f83c3b46f8bd4ee3571e619812b367d0880da  grail_inductive/fb237_v3_ind/test.txt
8e6e19adb9b154348897bf896b5305a76126bc4d79a21705ea47e4efce2d84f3  grail_inductive/fb237_v4_ind/test.txt
66a497671114e73f450cf9e5eb79be5e5790121816228eb43e3ba3481e2bfa28  grail_inductive/nell_v1_ind/test.txt
b479de23638f3d86d96094b0e3a18144433841f84e1cec7af192b44839c8e1cf  grail_inductive/nell_v2_ind/test.txt
f24cd61c799edced7dac727a132bb57a8791092c4705f7f7bf5474f4160da67d  grail_inductive/nell_v3_ind/test.txt
040f15a24c22897b6a583e007044e1910523214a463491618d8aa635bf89dbdc  grail_inductive/nell_v4_ind/test.txt
"""

_SPLIT_FILES = ("train.txt", "valid.txt", "test.txt")


def _parse_checksums(table: str) -> dict[str, str]:
    """``folder/file`` -> sha256 from ``sha256sum``-style lines."""
    pairs = (line.split() for line in table.strip().splitlines())
    return {path: digest for digest, path in pairs}


_CHECKSUMS = _parse_checksums(_SHA256SUMS)


def _data_files(
    folder: str, local: tuple[str, ...], remote: tuple[str, ...] | None = None
) -> tuple[DataFile, ...]:
    return tuple(
        DataFile(name, source, _CHECKSUMS[f"{folder}/{name}"])
        for name, source in zip(local, remote or local, strict=True)
    )


def _transductive_entries() -> list[DatasetEntry]:
    build = _build_transductive
    entries = []
    for name, folder, archive, embedded, description in (
        ("nations", "nations", "nations.tar.gz", "nations", "Nations (14 countries, 55 relations)"),
        ("kinship", "kinship", "kinship.tar.gz", "kinships", "Alyawarra kinship"),
        ("umls", "umls", "umls.tar.gz", "umls", "UMLS semantic network"),
        ("fb15k-237", "fb15k-237", "FB15k-237.tar.gz", None, "FB15k-237 (Toutanova & Chen 2015)"),
        ("wn18rr", "wn18rr", "WN18RR.tar.gz", None, "WN18RR (Dettmers et al. 2018)"),
    ):
        entries.append(
            DatasetEntry(
                name,
                "transductive",
                folder,
                _data_files(folder, _SPLIT_FILES),
                build,
                base_url=_CONVE,
                archive=archive,
                archive_sha256=_CONVE_ARCHIVES[archive],
                embedded=embedded,
                description=description,
            )
        )
    for level in (1, 2, 3):
        folder = f"countries_S{level}"
        remote = tuple(f"countries/{folder}/{file}" for file in _SPLIT_FILES)
        entries.append(
            DatasetEntry(
                f"countries_s{level}",
                "transductive",
                folder,
                _data_files(folder, _SPLIT_FILES, remote),
                build,
                base_url=_CONVE,
                description=f"Countries S{level} (Bouchard et al. 2015)",
            )
        )
    for size, label in (("s", "CoDEx-S"), ("m", "CoDEx-M")):
        folder = f"codex-{size}"
        remote = tuple(f"{folder}/{file}" for file in _SPLIT_FILES)
        entries.append(
            DatasetEntry(
                folder,
                "transductive",
                folder,
                _data_files(folder, _SPLIT_FILES, remote),
                build,
                base_url=_CODEX,
                description=f"{label} (Safavi & Koutra 2020)",
            )
        )
    return entries


def _grail_entries() -> list[DatasetEntry]:
    entries = []
    for family, prefix, label in (
        ("fb237", "fb237", "FB15k-237"),
        ("wn18rr", "WN18RR", "WN18RR"),
        ("nell", "nell", "NELL-995"),
    ):
        for version in (1, 2, 3, 4):
            train_dir, inference_dir = f"{prefix}_v{version}", f"{prefix}_v{version}_ind"
            local = (
                f"{train_dir}/train.txt",
                f"{train_dir}/valid.txt",
                *(f"{inference_dir}/{file}" for file in _SPLIT_FILES),
            )
            entries.append(
                DatasetEntry(
                    f"grail_{family}_v{version}",
                    "inductive_e",
                    "grail_inductive",
                    _data_files("grail_inductive", local),
                    partial(_build_grail, train_dir, inference_dir),
                    base_url=_GRAIL,
                    description=f"GraIL inductive {label} v{version} (Teru et al. 2020)",
                )
            )
    return entries


def _inference_graph_entries() -> list[DatasetEntry]:
    ilpc = DatasetEntry(
        "ilpc2022_small",
        "inductive_e",
        "ilpc2022_small",
        _role_data_files("ilpc2022_small", ILPC_FILES, "small/"),
        partial(_build_inference_graph, ILPC_FILES, "inductive_e"),
        base_url=_ILPC,
        description="ILPC 2022 small (Galkin et al. 2022)",
    )
    entries = [ilpc]
    for level in (0, 25, 50, 75, 100):
        folder = f"ingram_nl_{level}"
        entries.append(
            DatasetEntry(
                folder,
                "inductive_er",
                folder,
                _role_data_files(folder, INGRAM_FILES, f"NL-{level}/"),
                partial(_build_inference_graph, INGRAM_FILES, "inductive_er"),
                base_url=_INGRAM,
                description=f"InGram NL-{level} (Lee et al. 2023)",
            )
        )
    for name, remote_dir, label in (
        ("mtdea_metafam", "Metafam/Metafam/raw/", "MTDEA Metafam"),
        ("mtdea_fbnell", "FBNELL/FBNELL_v1/raw/", "MTDEA FBNELL"),
    ):
        entries.append(
            DatasetEntry(
                name,
                "inductive_er",
                name,
                _role_data_files(name, MTDEA_FILES, remote_dir),
                mtdea_inductive,
                base_url=_MTDEA,
                description=f"{label} (Zhou et al. 2023)",
            )
        )
    hm_remote = ("train/train.txt", "test/test-graph.txt", "train/valid.txt", "test/test-fact.txt")
    entries.append(
        DatasetEntry(
            "hm_1k",
            "inductive_e",
            "hm_1k",
            _data_files(
                "hm_1k", _role_files(HM_FILES), tuple(f"Hamaguchi-BM_both-1000/{p}" for p in hm_remote)
            ),
            hm_inductive,
            base_url=_INDIGO,
            description="Hamaguchi et al. 2017 OOKB both-1000 (HM 1k)",
        )
    )
    return entries


def _role_files(files: InductiveFiles) -> tuple[str, ...]:
    return (files.train, files.inference, files.valid, files.test)


def _role_data_files(folder: str, files: InductiveFiles, remote_dir: str) -> tuple[DataFile, ...]:
    local = _role_files(files)
    return _data_files(folder, local, tuple(remote_dir + name for name in local))


def _build_transductive(name: str, folder: Path) -> KGDataset:
    return transductive(name, folder)


def _build_grail(train_dir: str, inference_dir: str, name: str, folder: Path) -> KGDataset:
    return grail_inductive(name, folder / train_dir, folder / inference_dir)


def _build_inference_graph(files: InductiveFiles, setting: str, name: str, folder: Path) -> KGDataset:
    return inference_graph_inductive(name, folder, files, setting)


def _registry() -> dict[str, DatasetEntry]:
    entries = [*_transductive_entries(), *_grail_entries(), *_inference_graph_entries()]
    return {entry.name: entry for entry in entries}


DATASETS: dict[str, DatasetEntry] = _registry()

# upstream ULTRA / PyKEEN spellings, lowercased, for convenience
ALIASES: dict[str, str] = {
    "fb15k237": "fb15k-237",
    "codexsmall": "codex-s",
    "codexmedium": "codex-m",
    "kinships": "kinship",
    "countries": "countries_s1",
    "ilpc2022:small": "ilpc2022_small",
    "metafam": "mtdea_metafam",
    "fbnell": "mtdea_fbnell",
    "hm:1k": "hm_1k",
    **{f"nlingram:{level}": f"ingram_nl_{level}" for level in (0, 25, 50, 75, 100)},
    **{
        f"{upstream}inductive:v{version}": f"grail_{family}_v{version}"
        for upstream, family in (("fb15k237", "fb237"), ("wn18rr", "wn18rr"), ("nell", "nell"))
        for version in (1, 2, 3, 4)
    },
}


def available_datasets() -> list[str]:
    """The canonical dataset names, in catalog order."""
    return list(DATASETS)


def get_entry(name: str) -> DatasetEntry:
    """The catalog entry of ``name`` (case-insensitive; upstream ULTRA names such as ``NLIngram:25`` work)."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if key not in DATASETS:
        raise KeyError(f"unknown dataset {name!r}; available: {', '.join(available_datasets())}")
    return DATASETS[key]


def load_dataset(name: str, root: str | Path | None = None) -> KGDataset:
    """Build the dataset ``name`` from its folder under the data root (downloading it if it is missing).

    Raises ``KeyError`` for an unknown name, ``DatasetNotFoundError`` when the files are absent and no
    source is known, ``DownloadError`` when a download fails or does not match its checksum, and
    ``TripleFileError`` for a malformed file.
    """
    entry = get_entry(name)
    return entry.build(entry.name, dataset_folder(entry.name, root))


def dataset_folder(name: str, root: str | Path | None = None) -> Path:
    """The folder holding every file of dataset ``name``, obtaining the files first if needed.

    Order: the folder under the data root when it is complete; else, for Nations / Kinship / UMLS when
    the root has no such folder, the copy bundled with ``pykeen``; else the missing files are downloaded
    into the folder under the root.
    """
    entry = get_entry(name)
    data_root = resolve_data_root(root)
    folder = data_root / entry.folder
    missing = [file for file in entry.files if not (folder / file.local).is_file()]
    if not missing:
        return folder
    if entry.embedded is not None and not folder.exists() and (bundled := _bundled_folder(entry)) is not None:
        return bundled
    if entry.base_url is None:
        raise DatasetNotFoundError(
            f"dataset {entry.name!r}: {', '.join(str(folder / file.local) for file in missing)} not found "
            f"under the data root {data_root} (expected folder {entry.folder!r}); put the files there, "
            f"pass root=... or set ${DATA_ROOT_ENV}"
        )
    _download(entry, folder, missing)
    return folder


def _bundled_folder(entry: DatasetEntry) -> Path | None:
    """pykeen's bundled copy of ``entry``, located without importing pykeen (its import is slow)."""
    spec = importlib.util.find_spec("pykeen")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "datasets" / str(entry.embedded)
    return folder if all((folder / file.local).is_file() for file in entry.files) else None


def _download(entry: DatasetEntry, folder: Path, files: list[DataFile]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if entry.archive is not None:
        _download_from_archive(entry, folder, files)
        return
    for file in files:
        download_file(entry.url(file.remote), folder / file.local, file.sha256)


def _download_from_archive(entry: DatasetEntry, folder: Path, files: list[DataFile]) -> None:
    """Fetch and verify the archive, extract it aside, verify each file, then move it into ``folder``."""
    archive = str(entry.archive)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".download.") as scratch:
        scratch_dir = Path(scratch)
        archive_path = download_file(
            entry.url(archive), scratch_dir / Path(archive).name, entry.archive_sha256
        )
        extracted = scratch_dir / "extracted"
        safe_extract(archive_path, extracted)
        for file in files:
            member = extracted / file.remote
            if not member.is_file():
                raise DownloadError(f"{entry.url(archive)}: archive has no member {file.remote!r}")
            if (actual := sha256_of(member)) != file.sha256:
                raise DownloadError(
                    f"{entry.url(archive)}: {file.remote} has sha256 {actual}, expected {file.sha256}"
                )
            (folder / file.local).parent.mkdir(parents=True, exist_ok=True)
            os.replace(member, folder / file.local)
